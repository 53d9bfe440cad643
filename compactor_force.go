package isledb

import (
	"context"

	"github.com/isledb/isledb/internal/compaction"
)

// CompactL0 merges every L0 SST into a sorted run now, whatever L0CompactionThreshold
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
		plan := compaction.PickL0(m, 1, max(c.opts.L0CompactionThreshold, maxL0Inputs))
		if plan == nil {
			break
		}
		if m, err = c.runJob(ctx, m, plan, CompactionL0Flush); err != nil {
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
