package isledb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/isledb/isledb/internal/gc"
	"github.com/isledb/isledb/manifest"
)

// RetentionCompactorMode selects a retention policy.
type RetentionCompactorMode int

const (
	// CompactByAge (FIFO) deletes SSTs older than RetentionPeriod (by CreatedAt), always
	// keeping the newest RetentionCount SSTs.
	CompactByAge RetentionCompactorMode = iota
	// CompactByTimeWindow groups SSTs into segments of SegmentDuration by CreatedAt
	// (segment k holds the SSTs created in [k·SegmentDuration, (k+1)·SegmentDuration) since
	// the Unix epoch) and deletes whole segments that ended before now − RetentionPeriod,
	// always keeping the newest max(1, RetentionCount/10) segments.
	CompactByTimeWindow
)

// String returns "age" or "time-window".
func (m RetentionCompactorMode) String() string {
	switch m {
	case CompactByAge:
		return "age"
	case CompactByTimeWindow:
		return "time-window"
	}
	return fmt.Sprintf("RetentionCompactorMode(%d)", int(m))
}

// CleanupStats describe one cleanup. The SSTs are removed from the manifest at once and
// their objects deleted after the GC grace period.
type CleanupStats struct {
	SSTsDeleted    int
	BytesReclaimed int64
	Duration       time.Duration
}

// RetentionCompactorStats describe the database as the retention compactor last saw it,
// and its work so far.
type RetentionCompactorStats struct {
	Mode            RetentionCompactorMode
	RetentionPeriod time.Duration
	L0SSTCount      int
	SortedRunCount  int
	// TotalSize is the size of every SST in the manifest.
	TotalSize int64
	// OldestSST is the CreatedAt of the oldest SST (zero if there is none).
	OldestSST time.Time

	// Cleanups, SSTsDeleted and BytesReclaimed add up every successful cleanup.
	Cleanups       int
	SSTsDeleted    int
	BytesReclaimed int64
	// GC counts garbage collection.
	GC GCStats
}

// String formats the stats on one line.
func (s RetentionCompactorStats) String() string {
	return fmt.Sprintf("%v, period %v: %d L0 ssts, %d runs, %d B, oldest %v; %d cleanups deleted %d ssts (%d B); gc: %v",
		s.Mode, s.RetentionPeriod, s.L0SSTCount, s.SortedRunCount, s.TotalSize, s.OldestSST.Format(time.RFC3339),
		s.Cleanups, s.SSTsDeleted, s.BytesReclaimed, s.GC)
}

// RetentionCompactor deletes whole SSTs by a retention policy (by age or by time window)
// instead of merging them. It holds the compactor fence, like a Compactor: the two are
// alternatives for one prefix, and opening one fences the other. Deleted SSTs leave the
// manifest in one entry and their objects are deleted after the GC grace period (see
// docs/compaction.md). Its methods are safe for concurrent use; cleanups run one at a time.
type RetentionCompactor struct {
	*compactorCore
	opts RetentionCompactorOptions

	statsMu sync.Mutex
	totals  CleanupStats
	runs    int
}

// OpenRetentionCompactor claims the compactor role and returns the retention compactor,
// stopped: call Start, or RunCleanup. DB.Close closes it.
func (db *DB) OpenRetentionCompactor(ctx context.Context, opts RetentionCompactorOptions) (*RetentionCompactor, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	gco := gc.Options{Grace: opts.GCGracePeriod, Interval: opts.GCInterval, Blob: opts.BlobGC, Clock: opts.clock}
	core, err := db.openCore(ctx, opts.OwnerID, opts.GCMarkStorage, gco, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("isledb: open retention compactor: %w", err)
	}
	r := &RetentionCompactor{compactorCore: core, opts: opts}
	if err := db.register(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Start starts the background loop: a cleanup every CheckInterval. It ends by itself if the
// compactor is fenced. Starting a started compactor does nothing.
func (r *RetentionCompactor) Start() {
	r.start(r.opts.CheckInterval, r.RunCleanup, "retention cleanup")
}

// Stop stops the background loop and waits for a cleanup in progress.
func (r *RetentionCompactor) Stop() { r.loop.stop() }

// Close stops the retention compactor.
func (r *RetentionCompactor) Close() error {
	r.close(r)
	return nil
}

// Refresh moves to the newest manifest (fails wrapping manifest.ErrFenced if fenced).
func (r *RetentionCompactor) Refresh(ctx context.Context) error { return r.refresh(ctx) }

// IsFenced reports whether the compactor has learned it was fenced.
func (r *RetentionCompactor) IsFenced() bool { return r.fenced.Load() }

// FenceToken returns the compactor's fence claim.
func (r *RetentionCompactor) FenceToken() *manifest.FenceToken { f := *r.fence; return &f }

// RunGC runs one garbage collection pass now.
func (r *RetentionCompactor) RunGC(ctx context.Context) (GCStats, error) { return r.runGC(ctx) }

// RunCleanup runs one cleanup: it moves to the newest manifest, removes the SSTs the policy
// expires in one manifest entry, then runs a GC pass if it removed any or GCInterval has
// passed. OnCleanup or OnCleanupError is called with the outcome.
func (r *RetentionCompactor) RunCleanup(ctx context.Context) error {
	st, err := r.cleanup(ctx)
	if err != nil {
		r.opts.OnCleanupError(err)
		return err
	}
	r.statsMu.Lock()
	r.runs++
	r.totals.SSTsDeleted += st.SSTsDeleted
	r.totals.BytesReclaimed += st.BytesReclaimed
	r.statsMu.Unlock()
	r.opts.OnCleanup(st)
	return nil
}

func (r *RetentionCompactor) cleanup(ctx context.Context) (CleanupStats, error) {
	start := time.Now()
	r.runMu.Lock()
	defer r.runMu.Unlock()
	if err := r.checkUsableLocked(); err != nil {
		return CleanupStats{}, err
	}
	m, err := r.refreshLocked(ctx)
	if err != nil {
		return CleanupStats{}, err
	}
	var st CleanupStats
	victims := retentionVictims(m, r.opts, time.Now())
	if len(victims) > 0 {
		if err := r.gc.AddIntents(ctx, victims); err != nil {
			return CleanupStats{}, err
		}
		ids := make([]string, len(victims))
		for i, s := range victims {
			ids[i] = s.ID
			st.BytesReclaimed += s.Size
		}
		if _, err := r.ms.AppendCompactionWithFence(ctx, manifest.CompactionLogPayload{DeleteSSTs: ids}); err != nil {
			r.noteAppendErr(err)
			return CleanupStats{}, fmt.Errorf("isledb: retention: remove %d ssts from the manifest: %w", len(ids), err)
		}
		r.setMLocked(r.ms.Current())
		st.SSTsDeleted = len(victims)
	}
	if len(victims) > 0 || r.gc.Due() {
		if _, err := r.gc.Pass(ctx); err != nil {
			return CleanupStats{}, err
		}
	}
	st.Duration = time.Since(start)
	return st, nil
}

// retentionVictims returns the SSTs of m that the policy o expires at now.
func retentionVictims(m *manifest.Manifest, o RetentionCompactorOptions, now time.Time) []manifest.SSTMeta {
	all := m.CopySSTs()
	// Newest first.
	slices.SortStableFunc(all, func(a, b manifest.SSTMeta) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	cutoff := now.Add(-o.RetentionPeriod)
	var victims []manifest.SSTMeta
	switch o.Mode {
	case CompactByAge:
		for i, s := range all {
			if i >= o.RetentionCount && s.CreatedAt.Before(cutoff) {
				victims = append(victims, s)
			}
		}
	case CompactByTimeWindow:
		seg := func(t time.Time) int64 {
			n, d := t.UnixNano(), int64(o.SegmentDuration)
			if n < 0 {
				return (n - d + 1) / d
			}
			return n / d
		}
		keep := max(1, o.RetentionCount/10)
		segments := 0
		last := int64(0)
		for i, s := range all {
			k := seg(s.CreatedAt)
			if i == 0 || k != last {
				segments++
				last = k
			}
			end := time.Unix(0, (k+1)*int64(o.SegmentDuration))
			if segments > keep && !end.After(cutoff) {
				victims = append(victims, s)
			}
		}
	}
	return victims
}

// Stats returns the compactor's view of the database (as of its last cleanup or Refresh)
// and its counters.
func (r *RetentionCompactor) Stats() RetentionCompactorStats {
	m := r.cur.Load()
	s := RetentionCompactorStats{
		Mode: r.opts.Mode, RetentionPeriod: r.opts.RetentionPeriod,
		L0SSTCount: m.L0SSTCount(), SortedRunCount: m.SortedRunCount(), GC: GCStats(r.gc.Stats()),
	}
	for sst := range m.SSTs() {
		s.TotalSize += sst.Size
		if s.OldestSST.IsZero() || sst.CreatedAt.Before(s.OldestSST) {
			s.OldestSST = sst.CreatedAt
		}
	}
	r.statsMu.Lock()
	s.Cleanups, s.SSTsDeleted, s.BytesReclaimed = r.runs, r.totals.SSTsDeleted, r.totals.BytesReclaimed
	r.statsMu.Unlock()
	return s
}
