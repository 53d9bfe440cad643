package isledb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/isledb/isledb/internal/compaction"
	"github.com/isledb/isledb/manifest"
)

// A compaction job: merge the plan's inputs into new SSTs (uploaded, not yet published),
// record the inputs as about to be removed (GC intents), then append one manifest entry
// that swaps inputs for outputs. If the merge or the append fails for sure, the outputs are
// deleted at once; if the append's outcome is unknown they are left to GC, which deletes
// them only if they are not in the manifest.

// pick returns the next job due on m, or nil: L0 first, then a run merge.
func (c *Compactor) pick(m *manifest.Manifest) (*compaction.Plan, CompactionJobType) {
	if c.opts.Leveled.Enabled {
		return c.pickLeveled(m, c.opts.L0CompactionThreshold)
	}
	if p := compaction.PickL0(m, c.opts.L0CompactionThreshold, max(c.opts.L0CompactionThreshold, maxL0Inputs)); p != nil {
		return p, CompactionL0Flush
	}
	if p := compaction.PickRuns(m, c.opts.MinSources, c.opts.MaxSources, c.opts.SizeThreshold); p != nil {
		return p, CompactionConsecutiveMerge
	}
	return nil, 0
}

// runJob runs one job planned on m and returns the manifest after it.
func (c *Compactor) runJob(ctx context.Context, m *manifest.Manifest, plan *compaction.Plan, typ CompactionJobType) (*manifest.Manifest, error) {
	inputs := plan.SSTs()
	job := CompactionJob{Type: typ, InputSSTs: make([]string, len(inputs))}
	for i, s := range inputs {
		job.InputSSTs[i] = s.ID
	}
	if len(plan.Runs) > 0 {
		job.InputRuns = plan.RunIDs()
	}
	c.opts.OnCompactionStart(job)
	out, res, err := c.execute(ctx, m, plan)
	job.OutputRun = out
	c.record(res, err)
	c.opts.OnCompactionEnd(job, err)
	if err != nil {
		return nil, fmt.Errorf("isledb: compaction (%v of %d ssts): %w", typ, len(inputs), err)
	}
	c.setMLocked(c.ms.Current())
	return c.m, nil
}

func (c *Compactor) execute(ctx context.Context, m *manifest.Manifest, plan *compaction.Plan) (*SortedRun, *compaction.Result, error) {
	res, err := compaction.Run(ctx, compaction.Job{Inputs: plan.Inputs(), Bottom: plan.Bottom, Now: time.Now().UnixNano()}, c.merge)
	if err != nil {
		if res != nil {
			c.discard(ctx, res.Attempted)
		}
		return nil, res, err
	}
	if err := c.gc.AddIntents(ctx, plan.SSTs()); err != nil {
		c.discard(ctx, res.Attempted)
		return nil, res, err
	}
	payload := manifest.CompactionLogPayload{RemoveL0SSTs: plan.L0IDs()}
	if len(plan.Runs) > 0 {
		payload.RemoveSortedRuns = plan.RunIDs()
	}
	if len(res.Outputs) > 0 {
		payload.OutputRun = &manifest.SortedRun{ID: m.NextSortedRunID, SSTs: res.Outputs}
	}
	if _, err := c.ms.AppendCompactionWithFence(ctx, payload); err != nil {
		c.noteAppendErr(err)
		if !errors.Is(err, manifest.ErrUncertain) {
			c.discard(ctx, res.Attempted)
		}
		return nil, res, fmt.Errorf("append to the manifest: %w", err)
	}
	return payload.OutputRun, res, nil
}

// record adds a job's figures to the stats.
func (c *Compactor) record(res *compaction.Result, err error) {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	s := &c.stats
	if res != nil {
		r := res.Stats
		s.ReadRequests += r.ReadRequests
		s.BytesRead += r.BytesRead
		s.WriteRequests += r.WriteRequests
		s.Busy += r.Duration
		if err == nil {
			s.InputSSTs += r.InputSSTs
			s.InputBytes += r.InputBytes
			s.InputRawBytes += r.InputRawBytes
			s.OutputSSTs += r.OutputSSTs
			s.OutputBytes += r.OutputBytes
			s.EntriesWritten += r.Entries
			s.EntriesDropped += r.Dropped
		}
	}
	if err != nil {
		s.Failures++
	} else {
		s.Compactions++
	}
}
