package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// Options configure a collector: what CompactorOptions and RetentionCompactorOptions say
// about GC.
type Options struct {
	// Grace is GCGracePeriod, Interval GCInterval.
	Grace    time.Duration
	Interval time.Duration
	// Blob configures blob GC.
	Blob config.BlobGCOptions
	// Clock is the time source (nil: time.Now; tests set a fake clock).
	Clock func() time.Time
}

// Config is what a collector works on.
type Config struct {
	Options
	Store *blobstore.Store
	Marks manifest.GCMarkStorage
	// Epoch is the compactor's fence epoch.
	Epoch uint64
	// Latest returns the current manifest, failing with manifest.ErrFenced if the
	// compactor fence is not ours.
	Latest func(ctx context.Context) (*manifest.Manifest, error)
	// Logger receives the warnings about damaged GC state set aside.
	Logger *slog.Logger
}

// Collector runs GC passes for a compactor. Its methods other than Stats are called one
// at a time (the compactor's run lock).
type Collector struct {
	store  *blobstore.Store
	opts   Options
	epoch  uint64
	latest func(ctx context.Context) (*manifest.Manifest, error)
	clock  func() time.Time
	logger *slog.Logger
	marks  *stateObject[Marks]
	ckp    *stateObject[*Checkpoint]

	lastPass  time.Time
	lastBlob  time.Time
	loadedCkp bool
	refs      map[string][][32]byte // blob references, by SST id

	mu    sync.Mutex
	total Stats
}

// New returns a collector.
func New(cfg Config) *Collector {
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Collector{
		store: cfg.Store, opts: cfg.Options, epoch: cfg.Epoch, latest: cfg.Latest, clock: clock,
		logger: cfg.Logger, marks: marksObject(cfg.Marks), ckp: checkpointObject(cfg.Marks),
		refs: map[string][][32]byte{},
	}
}

// SetClock replaces the collector's time source (tests: a fake clock).
func (g *Collector) SetClock(clock func() time.Time) { g.clock = clock }

// Due reports whether a pass is due: GCInterval since the last one.
func (g *Collector) Due() bool {
	return g.lastPass.IsZero() || g.clock().Sub(g.lastPass) >= g.opts.Interval
}

// Stats returns the counts of all passes so far.
func (g *Collector) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// repairer returns what loading the GC state needs to set damaged state aside.
func (g *Collector) repairer() repair {
	return repair{store: g.store, logger: g.logger, now: g.clock}
}

// AddIntents marks ssts as about to be removed from the manifest by a compaction of this
// compactor's epoch. It must succeed before the compaction's manifest entry is appended.
func (g *Collector) AddIntents(ctx context.Context, ssts []manifest.SSTMeta) error {
	err := update(ctx, g.marks, g.repairer(), func(marks Marks) (bool, error) {
		for _, s := range ssts {
			f := uint8(MarkRefsKnown)
			if s.HasBlobRefs {
				f |= MarkBlobRefs
			}
			marks[s.ID] = Mark{Epoch: g.epoch, Flags: f, Size: s.Size}
		}
		return len(ssts) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("isledb: gc: %w", err)
	}
	return nil
}

// Pass runs one GC pass (see the package documentation).
func (g *Collector) Pass(ctx context.Context) (Stats, error) {
	st := Stats{Passes: 1}
	var (
		m    *manifest.Manifest
		objs map[string]blobstore.ObjectInfo
		done Marks
	)
	// The marks object, with the orphans of an attempt whose store loses the CAS counted
	// again by the next attempt.
	var fnErr error
	marks := *g.marks
	marks.store = func(ctx context.Context, b []byte, tok string, exists bool) error {
		err := g.marks.store(ctx, b, tok, exists)
		if errors.Is(err, manifest.ErrConflict) && fnErr == nil {
			st.OrphansFound = 0
		}
		return err
	}
	err := update(ctx, &marks, g.repairer(), func(marks Marks) (bool, error) {
		var err error
		if m, err = g.latest(ctx); err != nil {
			fnErr = err
			return false, err
		}
		if objs, err = g.listSSTs(ctx); err != nil {
			fnErr = err
			return false, err
		}
		now := g.clock()
		live := make(map[string]struct{}, len(objs))
		for _, id := range m.AllSSTIDs() {
			live[id] = struct{}{}
		}
		changed := false
		var del []string
		for id, mk := range marks {
			_, isLive := live[id]
			obj, inBucket := objs[id]
			switch {
			case isLive:
				if mk.RemovedAt == 0 && mk.Epoch > g.epoch {
					continue // a newer compactor's compaction in flight
				}
				delete(marks, id) // its compaction failed, or an orphan that was a flush in flight
				changed = true
			case !inBucket:
				delete(marks, id)
				changed = true
			case mk.Flags&MarkOrphan != 0 && FlushInFlight(id, m):
				// Marked as an orphan before its writer took the role (or before the
				// manifest showed it): it is a flush in flight of the current writer.
				delete(marks, id)
				changed = true
			case mk.RemovedAt == 0:
				mk.RemovedAt = now.UnixNano()
				marks[id] = mk
				changed = true
			case now.Sub(time.Unix(0, mk.RemovedAt)) >= g.opts.Grace && now.Sub(obj.ModTime) >= g.opts.Grace:
				del = append(del, id)
			}
		}
		for id, obj := range objs {
			if _, ok := live[id]; ok {
				continue
			}
			if _, ok := marks[id]; ok || FlushInFlight(id, m) {
				continue
			}
			marks[id] = Mark{RemovedAt: now.UnixNano(), Flags: MarkOrphan, Size: obj.Size}
			st.OrphansFound++
			changed = true
		}
		slices.Sort(del)
		deleted, err := g.deleteSSTs(ctx, del)
		for _, id := range deleted {
			delete(marks, id)
			st.SSTsDeleted++
			st.SSTBytesDeleted += objs[id].Size
			delete(objs, id)
			changed = true
		}
		st.Pending = len(marks)
		done = marks
		fnErr = err // update stores what changed, best effort, and returns err
		return changed, err
	})
	if err != nil {
		if fnErr != nil {
			return st, err // wrapped already
		}
		return st, fmt.Errorf("isledb: gc: %w", err)
	}
	g.lastPass = g.clock()
	if err := g.walPass(ctx, &st); err != nil {
		g.record(st)
		return st, err
	}
	if err := g.blobPass(ctx, m, done, &st); err != nil {
		g.record(st)
		return st, err
	}
	g.record(st)
	return st, nil
}

func (g *Collector) record(st Stats) {
	g.mu.Lock()
	g.total.Add(st)
	g.mu.Unlock()
}

// listSSTs lists the SST objects, by id.
func (g *Collector) listSSTs(ctx context.Context) (map[string]blobstore.ObjectInfo, error) {
	list, err := g.store.ListSSTFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("isledb: gc: list ssts: %w", err)
	}
	objs := make(map[string]blobstore.ObjectInfo, len(list))
	for _, o := range list {
		if id, ok := base.SSTIDOfKey(o.Key); ok {
			objs[id] = o
		}
	}
	return objs, nil
}

// deleteSSTs deletes the objects of ids and returns the ids deleted.
func (g *Collector) deleteSSTs(ctx context.Context, ids []string) ([]string, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = g.store.SSTPath(id)
	}
	gone, err := deleteObjects(ctx, g.store, keys)
	deleted := make([]string, 0, len(gone))
	for _, i := range gone {
		deleted = append(deleted, ids[i])
	}
	if err != nil {
		return deleted, fmt.Errorf("isledb: gc: delete ssts: %w", err)
	}
	return deleted, nil
}

// FlushInFlight reports whether id may be a flush of the current writer not yet in the
// manifest: its epoch is the writer fence's and its largest sequence number is above the
// manifest's (the writer retries a failed flush under the same id).
func FlushInFlight(id string, m *manifest.Manifest) bool {
	epoch, seqHi, ok := base.ParseSSTID(id)
	if !ok {
		return false
	}
	return m.WriterFence != nil && epoch == m.WriterFence.Epoch && seqHi > m.MaxSeqNum()
}
