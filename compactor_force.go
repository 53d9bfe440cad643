package isledb

import (
	"context"

	"github.com/isledb/isledb/internal/compaction"
)

// CompactL0 merges every L0 SST into a sorted run now (under Leveled, into the level 1
// run while it has room), whatever L0CompactionThreshold
// says (at most max(L0CompactionThreshold, 32) L0 SSTs per job; jobs run until L0 is
// empty), then runs a GC pass. It is the "compact now" of a local store: reads afterwards
// look in fewer SSTs. Run merges are left to RunCompaction.
func (c *Compactor) CompactL0(ctx context.Context) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if err := c.checkUsableLocked(); err != nil {
		return err
	}
	m, err := c.refreshLocked(ctx)
	if err != nil {
		return err
	}
	compacted := false
	for {
		plan, typ := compaction.PickL0(m, 1, max(c.opts.L0CompactionThreshold, maxL0Inputs)), CompactionL0Flush
		if c.opts.Leveled.Enabled {
			// Into the level 1 run while it has room, as a leveled cycle would.
			plan, typ = c.pickLeveled(m, 1)
			if plan != nil && len(plan.L0) == 0 {
				plan = nil // L0 is empty: level merges are the background's
			}
		}
		if plan == nil {
			break
		}
		if m, err = c.runJob(ctx, m, plan, typ); err != nil {
			return err
		}
		compacted = true
	}
	if compacted {
		if _, err := c.gc.pass(ctx); err != nil {
			return err
		}
	}
	return nil
}
