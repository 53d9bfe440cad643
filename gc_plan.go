package isledb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/gc"
)

// GCPlan is what a garbage collection pass would do with the SST objects if it ran now:
// DB.PlanGC computes it from the GC marks, the manifest and a listing of "sst/", and
// changes nothing. It is the dry run of the CLI's gc verb and the "GC" row of its view.
type GCPlan struct {
	// At is the time the plan was made (the pass it describes runs at At).
	At time.Time
	// GracePeriod is the grace period the plan assumes (CompactorOptions.GCGracePeriod).
	GracePeriod time.Duration
	// SSTs are the SST objects in the bucket that the current manifest does not name,
	// sorted by ID.
	SSTs []GCPlanSST
	// MarksDamaged reports that gc/marks could not be decoded: a pass would set it aside
	// and mark every SST out of the manifest again (so nothing is deletable now).
	MarksDamaged bool
}

// GCPlanSST is one SST object out of the manifest, as GCPlan sees it.
type GCPlanSST struct {
	// ID is the SST's id; its object is "sst/<ID>.sst".
	ID string
	// Size and ModTime are the object's length and the bucket's modification time.
	Size    int64
	ModTime time.Time
	// MarkedAt is when a GC pass first saw the object out of the manifest (zero: no pass
	// has yet; the next one stamps it).
	MarkedAt time.Time
	// Orphan reports an object no manifest GC saw ever named (a failed compaction's
	// output, a flush whose manifest append never happened), rather than one a
	// compaction removed.
	Orphan bool
	// InFlight reports a flush of the current writer not yet in the manifest: GC leaves
	// it alone.
	InFlight bool
	// Deletable reports that a pass now would delete the object.
	Deletable bool
	// DeletableAt is the earliest time a pass may delete it (for an in-flight flush:
	// zero).
	DeletableAt time.Time
}

// Deletable returns the SSTs a pass now would delete, and their total size.
func (p *GCPlan) Deletable() (ssts []GCPlanSST, bytes int64) {
	for _, s := range p.SSTs {
		if s.Deletable {
			ssts = append(ssts, s)
			bytes += s.Size
		}
	}
	return ssts, bytes
}

// PlanGC reports what a garbage collection pass with the given grace period (0: the
// default, DefaultGCGracePeriod) would do with the SST objects now. It only reads: the
// GC marks, the manifest and the "sst/" listing (blob GC is not planned).
func (db *DB) PlanGC(ctx context.Context, grace time.Duration) (*GCPlan, error) {
	if grace <= 0 {
		grace = DefaultGCGracePeriod
	}
	plan := &GCPlan{GracePeriod: grace}
	data, _, exists, err := db.gcmarks.LoadPendingDeleteMarks(ctx)
	if err != nil {
		return nil, fmt.Errorf("isledb: plan gc: load marks: %w", err)
	}
	marks := gc.Marks{}
	if exists {
		if marks, err = gc.DecodeMarks(data); err != nil {
			marks, plan.MarksDamaged = gc.Marks{}, true
		}
	}
	m, err := db.newManifestStore().Replay(ctx)
	if err != nil {
		return nil, fmt.Errorf("isledb: plan gc: %w", err)
	}
	list, err := db.store.ListSSTFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("isledb: plan gc: list ssts: %w", err)
	}
	now := time.Now()
	plan.At = now
	live := map[string]struct{}{}
	for _, id := range m.AllSSTIDs() {
		live[id] = struct{}{}
	}
	later := func(a, b time.Time) time.Time {
		if a.After(b) {
			return a
		}
		return b
	}
	for _, o := range list {
		id, ok := base.SSTIDOfKey(o.Key)
		if !ok {
			continue
		}
		if _, ok := live[id]; ok {
			continue
		}
		s := GCPlanSST{ID: id, Size: o.Size, ModTime: o.ModTime}
		mk, marked := marks[id]
		switch {
		case marked && mk.Flags&gc.MarkOrphan != 0 && gc.FlushInFlight(id, m), !marked && gc.FlushInFlight(id, m):
			s.InFlight = true
		case marked && mk.RemovedAt != 0:
			s.MarkedAt = time.Unix(0, mk.RemovedAt)
			s.Orphan = mk.Flags&gc.MarkOrphan != 0
			s.DeletableAt = later(s.MarkedAt, o.ModTime).Add(grace)
			s.Deletable = !s.DeletableAt.After(now)
		default: // an intent, or not marked yet: the next pass stamps it now
			s.Orphan = !marked
			s.DeletableAt = later(now, o.ModTime).Add(grace)
		}
		plan.SSTs = append(plan.SSTs, s)
	}
	slices.SortFunc(plan.SSTs, func(a, b GCPlanSST) int { return strings.Compare(a.ID, b.ID) })
	return plan, nil
}
