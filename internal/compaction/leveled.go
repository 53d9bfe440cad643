package compaction

import (
	"math"

	"github.com/isledb/isledb/manifest"
)

// LevelOf returns the level (1 to maxLevels-1) of a sorted run of size bytes under
// leveled compaction: the first level whose budget holds it, where level 1's budget is
// baseSize and each deeper level's is mult times the one above; the last level holds any
// size.
func LevelOf(size, baseSize int64, mult, maxLevels int) int {
	level, budget := 1, baseSize
	for size > budget && level < maxLevels-1 {
		if budget > math.MaxInt64/int64(mult) {
			return level + 1 // the next budget exceeds any size
		}
		budget *= int64(mult)
		level++
	}
	return level
}

// PickLeveled returns the next job of leveled compaction on m, or nil. Each sorted run
// stands for one level, the level LevelOf its size; runs are newest first, so levels
// must grow along them.
//
//   - L0 first: once L0 holds at least l0Threshold SSTs, its oldest SSTs (at most
//     maxL0Inputs) merge with the newest run if the result still fits level 1's budget;
//     otherwise they become a new level 1 run of their own (the runs below keep their
//     data, now one run further down).
//   - Then levels: the newest run that is not in a shallower level than the run after it
//     (two runs in one level, the last level included) merges with that run. The result
//     may fill the next level: that merge is the next job.
//
// When no job is due, levels strictly grow along the runs, so there are at most
// maxLevels-1 runs and a read looks in at most that many plus L0.
func PickLeveled(m *manifest.Manifest, l0Threshold, maxL0Inputs int, baseSize int64, mult, maxLevels int) *Plan {
	runs := m.SortedRuns
	if n := len(m.L0SSTs); n > 0 && n >= l0Threshold {
		p := &Plan{L0: m.L0SSTs[n-min(n, max(maxL0Inputs, 1)):]}
		if len(runs) > 0 {
			var l0 int64
			for _, s := range p.L0 {
				l0 += s.Size
			}
			if LevelOf(RunSize(runs[0])+l0, baseSize, mult, maxLevels) == 1 {
				p.Runs = runs[:1]
			}
		}
		lo, hi := p.keyRange()
		p.Bottom = !overlapsAny(lo, hi, runs[len(p.Runs):])
		return p
	}
	for i := 0; i+1 < len(runs); i++ {
		if LevelOf(RunSize(runs[i]), baseSize, mult, maxLevels) >= LevelOf(RunSize(runs[i+1]), baseSize, mult, maxLevels) {
			p := &Plan{Runs: runs[i : i+2]}
			lo, hi := p.keyRange()
			p.Bottom = !overlapsAny(lo, hi, runs[i+2:])
			return p
		}
	}
	return nil
}
