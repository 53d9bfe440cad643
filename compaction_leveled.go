package isledb

import (
	"fmt"

	"github.com/isledb/isledb/internal/compaction"
	"github.com/isledb/isledb/manifest"
)

// LeveledCompaction configures leveled compaction (CompactorOptions.Leveled): in place of
// merging runs of similar size, the compactor keeps one sorted run per level, level 1 the
// newest. A run's level is the first whose budget holds its size: BaseLevelSize for level
// 1, LevelSizeMultiplier times more for each deeper one, the last level (MaxLevels-1)
// unbounded. L0 SSTs merge into the level 1 run while it stays within its budget, else
// they start a new level 1 run; a run that grew into the level of the run below merges
// with it. Reads then look in at most MaxLevels-1 runs besides L0, at the price of
// rewriting each byte about LevelSizeMultiplier times per level (docs/compaction.md).
type LeveledCompaction struct {
	// Enabled turns leveled compaction on. Default: false (runs of similar size merge,
	// MinSources, MaxSources and SizeThreshold).
	Enabled bool
	// BaseLevelSize is level 1's budget in bytes. Default: 256 MiB.
	BaseLevelSize int64
	// LevelSizeMultiplier is the ratio of adjacent levels' budgets. Default: 10.
	LevelSizeMultiplier int
	// MaxLevels counts the levels, L0 included: runs live in levels 1 to MaxLevels-1.
	// Default: 7.
	MaxLevels int
}

// The defaults of LeveledCompaction.
const (
	DefaultBaseLevelSize       = 256 << 20
	DefaultLevelSizeMultiplier = 10
	DefaultMaxLevels           = 7
)

func (o *LeveledCompaction) ensureDefaults() {
	if o.BaseLevelSize == 0 {
		o.BaseLevelSize = DefaultBaseLevelSize
	}
	if o.LevelSizeMultiplier == 0 {
		o.LevelSizeMultiplier = DefaultLevelSizeMultiplier
	}
	if o.MaxLevels == 0 {
		o.MaxLevels = DefaultMaxLevels
	}
}

func (o LeveledCompaction) validate() []error {
	var errs []error
	if o.BaseLevelSize < 1 {
		errs = append(errs, fmt.Errorf("Leveled.BaseLevelSize %d: want at least 1", o.BaseLevelSize))
	}
	if o.LevelSizeMultiplier < 2 || o.LevelSizeMultiplier > 1000 {
		errs = append(errs, fmt.Errorf("Leveled.LevelSizeMultiplier %d: want 2 to 1000", o.LevelSizeMultiplier))
	}
	if o.MaxLevels < 2 || o.MaxLevels > 64 {
		errs = append(errs, fmt.Errorf("Leveled.MaxLevels %d: want 2 to 64", o.MaxLevels))
	}
	return errs
}

// pickLeveled is pick under leveled compaction.
func (c *Compactor) pickLeveled(m *manifest.Manifest, l0Threshold int) (*compaction.Plan, CompactionJobType) {
	lv := c.opts.Leveled
	p := compaction.PickLeveled(m, l0Threshold, max(c.opts.L0CompactionThreshold, maxL0Inputs), lv.BaseLevelSize, lv.LevelSizeMultiplier, lv.MaxLevels)
	switch {
	case p == nil:
		return nil, 0
	case len(p.L0) > 0:
		return p, CompactionL0Flush
	}
	return p, CompactionConsecutiveMerge
}
