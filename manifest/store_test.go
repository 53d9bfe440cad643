package manifest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

func TestStoreBasics(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		w, _ := k.store(StoreOptions{})
		c, _ := k.store(StoreOptions{})

		if _, err := w.AppendAddSSTableWithFence(ctx, testSST("x", 1)); !errors.Is(err, ErrNotClaimed) {
			t.Fatalf("append before claim: %v", err)
		}
		if err := w.CheckWriterFence(ctx); !errors.Is(err, ErrNotClaimed) {
			t.Fatalf("check before claim: %v", err)
		}
		m, err := w.Replay(ctx)
		if err != nil || m.LogSeq != 0 || m.NextEpoch != 1 || m.Version != CurrentVersion {
			t.Fatalf("empty replay: %v %s", err, describe(m))
		}
		tok, err := w.ClaimWriter(ctx, "writer-1")
		if err != nil || tok.Epoch != 1 || tok.Owner != "writer-1" {
			t.Fatalf("claim: %v %+v", err, tok)
		}
		for i := range 3 {
			e, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprintf("l0-%d", i), uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			if e.Seq != Seq(i+2) || e.Kind != EntryAddSST || e.Epoch != 1 || e.Role != RoleWriter {
				t.Fatalf("entry %s", e)
			}
		}
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST("l0-0", 0)); !errors.Is(err, ErrSSTExists) {
			t.Fatalf("duplicate: %v", err)
		}
		ctok, err := c.ClaimCompactor(ctx, "compactor-1")
		if err != nil || ctok.Epoch != 2 {
			t.Fatalf("claim compactor: %v %+v", err, ctok)
		}
		if _, err := c.AppendAddSSTableWithFence(ctx, testSST("y", 9)); !errors.Is(err, ErrNotClaimed) {
			t.Fatalf("compactor adding an SST: %v", err)
		}
		e, err := c.AppendCompactionWithFence(ctx, CompactionLogPayload{
			RemoveL0SSTs: []string{"l0-0", "l0-1"},
			OutputRun:    &SortedRun{ID: 1, SSTs: []SSTMeta{runSST("r1", 0, 4), runSST("r2", 5, 9)}},
		})
		if err != nil || e.Seq != 6 {
			t.Fatalf("compaction: %v %v", err, e)
		}
		// The writer keeps appending after the compactor's entry.
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST("l0-3", 3)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AppendRemoveSSTablesWithFence(ctx, []string{"r1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AppendRemoveSSTablesWithFence(ctx, []string{"r1"}); !errors.Is(err, ErrSSTNotFound) {
			t.Fatalf("removing twice: %v", err)
		}

		r, _ := k.store(StoreOptions{})
		got, err := r.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.LogSeq != 8 || !slices.Equal(l0IDs(got), []string{"l0-3", "l0-2"}) ||
			!slices.Equal(runIDs(got), []uint32{1}) || got.SortedRuns[0].SSTs[0].ID != "r2" ||
			got.WriterFence.Epoch != 1 || got.CompactorFence.Epoch != 2 || got.NextEpoch != 3 || got.NextSortedRunID != 2 {
			t.Fatalf("replay: %s", describe(got))
		}
		// Everybody agrees, once caught up.
		if err := w.CheckWriterFence(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.CheckCompactorFence(ctx); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "writer", w.Current(), got)
		mustEqual(t, "compactor", c.Current(), got)
		if e := got.LookupSST("l0-2"); e == nil || !equalSST(e, ptr(testSST("l0-2", 2))) {
			t.Fatalf("metadata did not survive: %+v", e)
		}
		if ws, cs := w.Stats(), c.Stats(); ws.Appends != 5 || ws.Claims != 1 || cs.Appends != 3 || cs.Claims != 1 || ws.LostRaces < 1 {
			t.Fatalf("stats: writer %s; compactor %s", ws, cs)
		}
	})
}

func TestFencing(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		a, _ := k.store(StoreOptions{})
		bb, _ := k.store(StoreOptions{})
		if _, err := a.ClaimWriter(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AppendAddSSTableWithFence(ctx, testSST("a1", 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := bb.ClaimWriter(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AppendAddSSTableWithFence(ctx, testSST("a2", 2)); !errors.Is(err, ErrFenced) {
			t.Fatalf("zombie append: %v", err)
		}
		if err := a.CheckWriterFence(ctx); !errors.Is(err, ErrFenced) {
			t.Fatalf("zombie check: %v", err)
		}
		if _, err := a.AppendRemoveSSTablesWithFence(ctx, []string{"a1"}); !errors.Is(err, ErrFenced) {
			t.Fatalf("zombie remove: %v", err)
		}
		if _, err := bb.AppendAddSSTableWithFence(ctx, testSST("b1", 3)); err != nil {
			t.Fatal(err)
		}
		// A claims again and gets a newer epoch; now B is the zombie.
		tok, err := a.ClaimWriter(ctx, "a")
		if err != nil || tok.Epoch != 3 {
			t.Fatalf("reclaim: %v %+v", err, tok)
		}
		if _, err := bb.AppendAddSSTableWithFence(ctx, testSST("b2", 4)); !errors.Is(err, ErrFenced) {
			t.Fatalf("b after a's reclaim: %v", err)
		}
		m, err := a.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l0IDs(m), []string{"b1", "a1"}) || m.WriterFence.Owner != "a" || m.WriterFence.Epoch != 3 {
			t.Fatalf("replay: %s", describe(m))
		}
	})
}

// barrierStorage holds every create until all n racers reached their first create, so
// that their claims race from the same log position.
type barrierStorage struct {
	Storage
	once    sync.Once
	arrived *sync.WaitGroup
	release chan struct{}
}

func (b *barrierStorage) CreateLogEntry(ctx context.Context, seq Seq, data []byte) error {
	b.once.Do(func() { b.arrived.Done() })
	<-b.release
	return b.Storage.CreateLogEntry(ctx, seq, data)
}

// TestRacingClaims races claims of one role made from the same log position: exactly one
// wins, the rest get ErrFenceConflict.
func TestRacingClaims(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		const n = 6
		handles := make([]*blobstore.Store, n)
		for i := range handles {
			handles[i] = k.handle()
		}
		for round := range 5 {
			var arrived sync.WaitGroup
			arrived.Add(n)
			release := make(chan struct{})
			stores := make([]*Store, n)
			for i := range stores {
				var err error
				stores[i], err = NewStoreWithOptions(&barrierStorage{Storage: NewBlobStorage(handles[i]),
					arrived: &arrived, release: release}, StoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i, s := range stores {
				wg.Go(func() { _, errs[i] = s.ClaimWriter(ctx, fmt.Sprintf("w%d", i)) })
			}
			arrived.Wait()
			close(release)
			wg.Wait()
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case errors.Is(err, ErrFenceConflict):
				default:
					t.Fatalf("round %d, claimer %d: %v", round, i, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d winners (%v)", round, wins, errs)
			}
		}
		// A claim made after another one landed supersedes it: no conflict.
		s1, _ := k.store(StoreOptions{})
		s2, _ := k.store(StoreOptions{})
		if _, err := s1.ClaimWriter(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.ClaimWriter(ctx, "s2"); err != nil {
			t.Fatal(err)
		}
		if err := s1.CheckWriterFence(ctx); !errors.Is(err, ErrFenced) {
			t.Fatal(err)
		}
	})
}

// TestClaimPassesOtherEntries checks that a claim that loses its slot to an entry of
// another role retries instead of failing.
func TestClaimPassesOtherEntries(t *testing.T) {
	k := newBucket(t, testutil.Backends(testutil.Core)[0])
	w, _ := k.store(StoreOptions{})
	c, _ := k.store(StoreOptions{})
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Replay(ctx); err != nil { // c's view is now behind what follows
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := c.ClaimCompactor(ctx, "c")
	if err != nil || tok.Epoch != 2 {
		t.Fatalf("%v %+v", err, tok)
	}
	if c.Current().LogSeq != 7 {
		t.Fatalf("claim at %d", c.Current().LogSeq)
	}
}

// TestReplayFromCost checks that polling a quiet log costs one GET, and new entries one
// GET each plus the probe past the end.
func TestReplayFromCost(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		w, _ := k.store(StoreOptions{})
		r, rh := k.store(StoreOptions{})
		if _, err := w.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		m, err := r.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			before := rh.Stats()
			next, err := r.ReplayFrom(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			d := rh.Stats().Sub(before)
			if next != m || d.Requests() != 1 || d.Gets != 1 {
				t.Fatalf("quiet poll: same=%v, %s", next == m, d)
			}
		}
		for i := range 3 {
			if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		before := rh.Stats()
		next, err := r.ReplayFrom(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		d := rh.Stats().Sub(before)
		// 1 + 2 + 4 slots read: 3 entries and 4 probes past the end.
		if next.LogSeq != 4 || d.Requests() > 7 || d.Lists != 0 {
			t.Fatalf("poll with news: seq %d, %s", next.LogSeq, d)
		}
		mustEqual(t, "polled", next, w.Current())
		if m.LogSeq != 1 || m.L0SSTCount() != 0 {
			t.Fatal("ReplayFrom modified its argument")
		}
	})
}

// TestReplayFromConfirmsAfterWindow checks that a reader re-lists the snapshots once its
// trust window passed, and then notices that the log was pruned past it.
func TestReplayFromConfirmsAfterWindow(t *testing.T) {
	k := newBucket(t, testutil.Backends(testutil.Core)[0])
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w, _ := k.store(StoreOptions{SnapshotEvery: 4, PruneGrace: -1})
	r, rh := k.store(StoreOptions{PruneGrace: time.Minute, Clock: clock})
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	m, err := r.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 { // snapshots at 5 and 9; entries below 9 pruned
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Within the window the reader believes the missing entry 2 ends the log (the writer
	// broke the grace period it promised)...
	before := rh.Stats()
	if next, err := r.ReplayFrom(ctx, m); err != nil || next != m || rh.Stats().Sub(before).Requests() != 1 {
		t.Fatalf("within the window: %v", err)
	}
	// ...and once it passed, it lists, finds the snapshot and catches up.
	advance(31 * time.Second)
	next, err := r.ReplayFrom(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "after the window", next, w.Current())
}

func TestWriteSnapshot(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		w, _ := k.store(StoreOptions{SnapshotEvery: -1})
		if _, err := w.WriteSnapshot(ctx, newManifest()); !errors.Is(err, ErrInvalidSnapshot) {
			t.Fatalf("position 0: %v", err)
		}
		if _, err := w.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		r, _ := k.store(StoreOptions{})
		m, err := r.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		forged := m.Clone()
		forged.chain++
		if _, err := r.WriteSnapshot(ctx, forged); !errors.Is(err, ErrInvalidSnapshot) {
			t.Fatalf("forged: %v", err)
		}
		handMade := &Manifest{Version: 1, LogSeq: m.LogSeq, NextEpoch: 2}
		if _, err := w.WriteSnapshot(ctx, handMade); !errors.Is(err, ErrInvalidSnapshot) {
			t.Fatalf("hand-made: %v", err)
		}
		key, err := r.WriteSnapshot(ctx, m)
		if err != nil || key != SnapshotKey(5) {
			t.Fatalf("snapshot: %q %v", key, err)
		}
		if key, err := w.WriteSnapshot(ctx, w.Current()); err != nil || key != SnapshotKey(5) {
			t.Fatalf("second snapshot of the same position: %q %v", key, err)
		}
		fresh, fh := k.store(StoreOptions{})
		before := fh.Stats()
		got, err := fresh.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "from snapshot", got, m)
		if d := fh.Stats().Sub(before); d.Lists != 2 || d.Gets != 3 {
			t.Fatalf("replay from a snapshot at the end: %s, want 2 LISTs (snapshots, log) and 3 GETs", d)
		}
	})
}

// TestSnapshotsAndPrune checks the automatic snapshots and pruning: after them the bucket
// holds one snapshot and the entries from it on, and replay still gives the same state.
func TestSnapshotsAndPrune(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		w, wh := k.store(fastOpts(5))
		if _, err := w.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		for i := range 22 {
			if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		// 23 entries: snapshots at 5, 10, 15, 20; pruned through 20.
		snaps, err := w.Storage().ListSnapshots(ctx)
		if err != nil || len(snaps) != 1 || snaps[0].Seq != 20 {
			t.Fatalf("snapshots %+v %v", snaps, err)
		}
		objs, err := wh.ListAll(ctx, "manifest/log/")
		if err != nil {
			t.Fatal(err)
		}
		var seqs []Seq
		for _, o := range objs {
			s, _ := parseSeqKey(o.Key, logDir)
			seqs = append(seqs, s)
		}
		if !slices.Equal(seqs, []Seq{20, 21, 22, 23}) {
			t.Fatalf("log entries left: %v", seqs)
		}
		r, _ := k.store(StoreOptions{})
		got, err := r.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "replay after prune", got, w.Current())
		if st, err := w.Prune(ctx); err != nil || st.LogEntries != 0 || st.Snapshots != 0 || st.Through != 20 {
			t.Fatalf("idle prune: %+v %v", st, err)
		}
	})
}

// TestPruneGrace checks that pruning waits for a snapshot to be PruneGrace old.
func TestPruneGrace(t *testing.T) {
	k := newBucket(t, testutil.Backends(testutil.Core)[0])
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	w, _ := k.store(StoreOptions{SnapshotEvery: 3, PruneGrace: time.Hour, Clock: clock})
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := w.Prune(ctx); err != nil || st.Through != 0 {
		t.Fatalf("prune within the grace: %+v %v", st, err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	st, err := w.Prune(ctx)
	if err != nil || st.Through != 9 || st.LogEntries != 8 || st.Snapshots != 2 {
		t.Fatalf("prune after the grace: %+v %v", st, err)
	}
}

// lyingStorage lets creates land but reports them as conflicts (as a storage without
// write ids does when its retry finds its own object) or as unknown failures.
type lyingStorage struct {
	Storage
	mu      sync.Mutex
	lie     int // how many more landed creates to misreport
	unknown bool
}

func (l *lyingStorage) CreateLogEntry(ctx context.Context, seq Seq, data []byte) error {
	if err := l.Storage.CreateLogEntry(ctx, seq, data); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lie > 0 {
		l.lie--
		if l.unknown {
			return errors.New("connection reset")
		}
		return fmt.Errorf("%w: slot taken", ErrConflict)
	}
	return nil
}

func TestOwnWriteRecognised(t *testing.T) {
	for _, unknown := range []bool{false, true} {
		inner := NewBlobStorage(blobstore.NewMemory("db"))
		ls := &lyingStorage{Storage: inner, lie: 3, unknown: unknown}
		s, err := NewStoreWithOptions(ls, StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			e, err := s.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i)))
			if err != nil || e.Seq != Seq(i+2) {
				t.Fatalf("unknown=%v: append %d: %v %v", unknown, i, err, e)
			}
		}
		m, err := NewStoreWithStorage(inner).Replay(ctx)
		if err != nil || m.LogSeq != 4 || m.L0SSTCount() != 3 {
			t.Fatalf("unknown=%v: %v %s", unknown, err, describe(m))
		}
	}
}

// TestReplayDetectsCorruption damages the bucket in ways no prune can explain: replay must
// fail with ErrCorruption, never return a wrong manifest.
func TestReplayDetectsCorruption(t *testing.T) {
	setup := func(t *testing.T) (*blobstore.Store, *Store) {
		bs := blobstore.NewMemory("db")
		w, err := NewStoreWithOptions(NewBlobStorage(bs), StoreOptions{SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		return bs, w
	}
	cases := map[string]func(t *testing.T, bs *blobstore.Store, w *Store){
		"garbage entry": func(t *testing.T, bs *blobstore.Store, w *Store) {
			if _, err := bs.Write(ctx, LogEntryKey(3), []byte("not an entry")); err != nil {
				t.Fatal(err)
			}
		},
		"entry from another chain": func(t *testing.T, bs *blobstore.Store, w *Store) {
			e := &ManifestLogEntry{Seq: 3, PrevHash: 12345, Kind: EntryAddSST, Role: RoleWriter, Epoch: 1,
				Owner: "w", SST: ptr(testSST("x", 9))}
			if _, err := bs.Write(ctx, LogEntryKey(3), encodeEntry(e)); err != nil {
				t.Fatal(err)
			}
		},
		"entry in the wrong slot": func(t *testing.T, bs *blobstore.Store, w *Store) {
			data, _, err := bs.Read(ctx, LogEntryKey(2))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bs.Write(ctx, LogEntryKey(3), data); err != nil {
				t.Fatal(err)
			}
		},
		"hole in the log": func(t *testing.T, bs *blobstore.Store, w *Store) {
			if err := bs.Delete(ctx, LogEntryKey(2)); err != nil {
				t.Fatal(err)
			}
		},
		"hole at a read-ahead boundary": func(t *testing.T, bs *blobstore.Store, w *Store) {
			if err := bs.Delete(ctx, LogEntryKey(1)); err != nil {
				t.Fatal(err)
			}
		},
		"damaged snapshot": func(t *testing.T, bs *blobstore.Store, w *Store) {
			if _, err := w.WriteSnapshot(ctx, w.Current()); err != nil {
				t.Fatal(err)
			}
			data, _, _ := bs.Read(ctx, SnapshotKey(5))
			data[len(data)-1] ^= 1
			if _, err := bs.Write(ctx, SnapshotKey(5), data); err != nil {
				t.Fatal(err)
			}
		},
		"snapshot breaking an invariant": func(t *testing.T, bs *blobstore.Store, w *Store) {
			m := w.Current()
			m.L0SSTs[1].ID = m.L0SSTs[0].ID
			if _, err := bs.Write(ctx, SnapshotKey(5), encodeSnapshot(m)); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			bs, w := setup(t)
			damage(t, bs, w)
			_, err := NewStore(bs).Replay(ctx)
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("replay: %v, want corruption", err)
			}
		})
	}
}

// TestReplayFromEach: within the trust window, a poll hands over each state as soon as its
// batch is read (the entries are above the listing's newest snapshot, so not strays), and
// the result is the end of the log; outside the window, nothing is handed over before the
// listing proves it.
func TestReplayFromEach(t *testing.T) {
	k := newBucket(t, testutil.Backends(testutil.Core)[0])
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w, _ := k.store(StoreOptions{SnapshotEvery: -1})
	r, _ := k.store(StoreOptions{PruneGrace: time.Minute, Clock: clock})
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	m, err := r.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for round, outside := range []bool{false, true} {
		for i := range 6 {
			if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprintf("%d-%d", round, i), uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		if outside {
			advance(31 * time.Second)
		}
		var seen []uint64
		next, err := r.ReplayFromEach(ctx, m, func(s *Manifest) { seen = append(seen, s.LogSeq) })
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "result", next, w.Current())
		want := []uint64{m.LogSeq + 1, m.LogSeq + 3} // batches of 1 and 2; the batch of 4 finds the end
		if outside {
			want = nil
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("outside the window %v: handed over %v, want %v", outside, seen, want)
		}
		m = next
	}
}
