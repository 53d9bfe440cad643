package isledb

import (
	"context"

	"github.com/isledb/isledb/internal/compaction"
	"github.com/isledb/isledb/manifest"
)

// CompactL0 merges every L0 SST into a sorted run now (under Leveled, into the level 1
// run while it has room), whatever L0CompactionThreshold
// says (at most max(L0CompactionThreshold, 32) L0 SSTs per job; jobs run until L0 is
// empty), then runs a GC pass. It is the "compact now" of a local store: reads afterwards
// look in fewer SSTs. Run merges are left to RunCompaction.
func (c *Compactor) CompactL0(ctx context.Context) error {
	return c.cycle(ctx, -1, func(m *manifest.Manifest) (*compaction.Plan, CompactionJobType) {
		if c.opts.Leveled.Enabled {
			// Into the level 1 run while it has room, as a leveled cycle would.
			plan, typ := c.pickLeveled(m, 1)
			if plan != nil && len(plan.L0) == 0 {
				return nil, typ // L0 is empty: level merges are the background's
			}
			return plan, typ
		}
		return compaction.PickL0(m, 1, max(c.opts.L0CompactionThreshold, maxL0Inputs)), CompactionL0Flush
	}, func(compacted bool) bool { return compacted })
}
