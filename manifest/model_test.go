package manifest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// twin is one of the two databases a history runs on: a writer and a compactor Store.
type twin struct {
	k         *bucket
	reader    *blobstore.Store // the handle fresh Stores replay through
	opts      StoreOptions
	w, c      *Store
	stale     *Manifest // an old replay, to check ReplayFrom against
	pruned    int
	snapshots int
}

func newTwin(t *testing.T, b testutil.Backend, opts StoreOptions) *twin {
	k := newBucket(t, b)
	w, _ := k.store(opts)
	c, _ := k.store(opts)
	return &twin{k: k, opts: opts, w: w, c: c, reader: k.handle()}
}

// fresh returns a new Store (no cached state) over the reader handle.
func (tw *twin) fresh(t *testing.T) *Store {
	s, err := NewStoreWithOptions(NewBlobStorage(tw.reader), tw.opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replay replays with a fresh Store.
func (tw *twin) replay(t *testing.T) *Manifest {
	t.Helper()
	m, err := tw.fresh(t).Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// historyOp is one random step, applied to both twins alike.
type historyOp func(tw *twin) error

// TestSnapshotPruneEqualsFullReplay runs random histories (adds, compactions, merges,
// retention deletes, removals, re-claims) twice: on a database that never snapshots and
// on one that snapshots every few entries, writes extra snapshots and prunes at once.
// At random points, and at the end, a replay of each (and a ReplayFrom of an old replay)
// must give identical manifests, chain hash included.
func TestSnapshotPruneEqualsFullReplay(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		n := seeds(b, 100)
		switch {
		case b.Server:
			n = min(n, 4) // every step is a dozen requests
		case b.Name == "file":
			n = min(n, 6) // every step is a dozen requests, several of them durable writes
		}
		for seed := range uint64(n) {
			if !historyRound(t, b, seed) {
				t.Fatalf("seed %d failed", seed)
			}
		}
	})
}

func historyRound(t *testing.T, b testutil.Backend, seed uint64) bool {
	rng := newRand(seed)
	clock := func() time.Time { return goldenTime } // identical bytes in both twins
	full := newTwin(t, b, StoreOptions{SnapshotEvery: -1, Clock: clock, PruneGrace: -1})
	snap := newTwin(t, b, StoreOptions{SnapshotEvery: 1 + rng.IntN(6), Clock: clock, PruneGrace: -1})
	both := []*twin{full, snap}
	for _, tw := range both {
		if _, err := tw.w.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.c.ClaimCompactor(ctx, "c"); err != nil {
			t.Fatal(err)
		}
	}
	steps := 40 + rng.IntN(60)
	if b.Name != "memory" {
		steps = 20 + rng.IntN(20)
	}
	nextID := 0
	for step := range steps {
		// Plan on the full twin's state; the other must agree on every outcome.
		cur := full.w.Current()
		if cc := full.c.Current(); cc.LogSeq > cur.LogSeq {
			cur = cc
		}
		var op historyOp
		switch p := rng.IntN(100); {
		case p < 45 || cur.L0SSTCount() == 0:
			nextID++
			sst := testSST(fmt.Sprintf("s%d", nextID), uint64(nextID))
			op = func(tw *twin) error { _, err := tw.w.AppendAddSSTableWithFence(ctx, sst); return err }
		case p < 60: // the oldest L0 SSTs (and maybe the newest run) into a new run
			k := 1 + rng.IntN(cur.L0SSTCount())
			var inputs []string
			for _, s := range cur.L0SSTs[cur.L0SSTCount()-k:] {
				inputs = append(inputs, s.ID)
			}
			c := CompactionLogPayload{RemoveL0SSTs: inputs}
			if cur.SortedRunCount() > 0 && rng.IntN(2) == 0 {
				c.RemoveSortedRuns = []uint32{cur.SortedRuns[0].ID}
			}
			nextID++
			c.OutputRun = &SortedRun{ID: cur.NextSortedRunID, SSTs: []SSTMeta{
				runSST(fmt.Sprintf("s%d", nextID), 0, 49), runSST(fmt.Sprintf("s%d", nextID+1), 50, 99)}}
			nextID++
			op = func(tw *twin) error { _, err := tw.c.AppendCompactionWithFence(ctx, c); return err }
		case p < 70 && cur.SortedRunCount() >= 2: // merge two consecutive runs
			i := rng.IntN(cur.SortedRunCount() - 1)
			ids := []uint32{cur.SortedRuns[i].ID, cur.SortedRuns[i+1].ID}
			out := cur.NextSortedRunID
			if rng.IntN(2) == 0 {
				out = ids[1] // replace in place under the older id
			}
			nextID++
			c := CompactionLogPayload{RemoveSortedRuns: ids,
				OutputRun: &SortedRun{ID: out, SSTs: []SSTMeta{runSST(fmt.Sprintf("s%d", nextID), 0, 99)}}}
			op = func(tw *twin) error { _, err := tw.c.AppendCompactionWithFence(ctx, c); return err }
		case p < 80: // retention: delete random SSTs
			all := cur.AllSSTIDs()
			victims := []string{all[rng.IntN(len(all))]}
			if v := all[rng.IntN(len(all))]; v != victims[0] {
				victims = append(victims, v)
			}
			if rng.IntN(2) == 0 {
				op = func(tw *twin) error {
					_, err := tw.c.AppendCompactionWithFence(ctx, CompactionLogPayload{DeleteSSTs: victims})
					return err
				}
			} else {
				op = func(tw *twin) error { _, err := tw.c.AppendRemoveSSTablesWithFence(ctx, victims); return err }
			}
		case p < 85: // a stale plan: inputs that are not there
			op = func(tw *twin) error {
				_, err := tw.c.AppendCompactionWithFence(ctx, CompactionLogPayload{RemoveL0SSTs: []string{"missing"}})
				if !errors.Is(err, ErrSSTNotFound) {
					return fmt.Errorf("stale plan: %v", err)
				}
				return nil
			}
		case p < 90: // re-claims: the Stores get new epochs
			owner := fmt.Sprintf("o%d", step)
			op = func(tw *twin) error {
				if _, err := tw.w.ClaimWriter(ctx, owner); err != nil {
					return err
				}
				_, err := tw.c.ClaimCompactor(ctx, owner)
				return err
			}
		case p < 95: // an explicit snapshot of a replay, or a prune (snapshot twin only)
			op = func(tw *twin) error {
				if tw == full {
					return nil
				}
				if rng.IntN(2) == 0 {
					m, err := tw.c.Replay(ctx)
					if err != nil {
						return err
					}
					if m.LogSeq > 0 {
						tw.snapshots++
						_, err = tw.c.WriteSnapshot(ctx, m)
					}
					return err
				}
				st, err := tw.w.Prune(ctx)
				tw.pruned += st.LogEntries
				return err
			}
		default: // compare
			op = nil
		}
		if op != nil {
			errFull, errSnap := op(full), op(snap)
			if (errFull == nil) != (errSnap == nil) {
				t.Errorf("seed %d step %d: outcomes differ: %v vs %v", seed, step, errFull, errSnap)
				return false
			}
			if errFull != nil {
				t.Errorf("seed %d step %d: %v", seed, step, errFull)
				return false
			}
		}
		if op == nil || step == steps-1 {
			a, b := full.replay(t), snap.replay(t)
			if err := a.Check(); err != nil {
				t.Errorf("seed %d step %d: %v", seed, step, err)
				return false
			}
			if !a.Equal(b) {
				t.Errorf("seed %d step %d: replays differ\nfull:     %s\nsnapshot: %s", seed, step, describe(a), describe(b))
				return false
			}
			if snap.stale != nil {
				got, err := snap.fresh(t).ReplayFrom(ctx, snap.stale)
				if err != nil || !got.Equal(b) {
					t.Errorf("seed %d step %d: ReplayFrom an old manifest: %v\ngot:  %s\nwant: %s", seed, step, err, describe(got), describe(b))
					return false
				}
			}
			snap.stale = b
		}
	}
	// The snapshot twin really pruned its log.
	seqs, err := snap.w.Storage().ListLogEntries(ctx, ^Seq(0))
	if err != nil {
		t.Fatal(err)
	}
	final := full.replay(t)
	if len(seqs) > 0 && slices.Min(seqs) == 1 && final.LogSeq > 20 && snap.opts.SnapshotEvery < 5 {
		t.Errorf("seed %d: the snapshot twin never pruned (log from 1 to %d)", seed, final.LogSeq)
		return false
	}
	return true
}
