package manifest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// buildLog writes a log of n entries (a writer claim, then adds and removes so that L0
// stays small) straight into a memory bucket, without snapshots, and returns the bucket
// and a Store that holds the writer fence and knows the log.
func buildLog(t testing.TB, n int) (*blobstore.Store, *Store) {
	t.Helper()
	bs := blobstore.NewMemory("db")
	st := NewBlobStorage(bs)
	ts := goldenTime
	m := newManifest()
	for i := 1; i <= n; i++ {
		e := &ManifestLogEntry{Seq: Seq(i), PrevHash: m.chain, Kind: EntryClaimFence, Role: RoleWriter,
			Epoch: 1, Owner: "w", Timestamp: ts}
		if id := fmt.Sprint(i / 2); i > 1 && i%2 == 0 {
			e.Kind, e.SST = EntryAddSST, ptr(testSST(id, uint64(i)))
		} else if i > 1 {
			e.Kind, e.RemovedSSTs = EntryRemoveSSTs, []string{id}
		}
		data := encodeEntry(e)
		if err := st.CreateLogEntry(ctx, Seq(i), data); err != nil {
			t.Fatal(err)
		}
		var err error
		if m, err = step("", m, e, entryHash(data)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := NewStoreWithOptions(st, StoreOptions{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	w.setState(m)
	w.mu.held[RoleWriter] = m.WriterFence
	return bs, w
}

// replayCost replays with a fresh Store and handle, and returns the requests it made.
func replayCost(t testing.TB, bs *blobstore.Store) (*Manifest, blobstore.Stats) {
	t.Helper()
	h := blobstore.NewWithBackend(bs.Backend(), "", bs.Prefix())
	r := NewStore(h)
	before := h.Stats()
	m, err := r.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m, h.Stats().Sub(before)
}

// TestReplayCost measures Replay of a 10,000-entry log with and without a snapshot, and
// asserts that it costs O(entries after the newest snapshot) plus a constant.
func TestReplayCost(t *testing.T) {
	const n = 10_000
	bs, w := buildLog(t, n)
	readAhead := DefaultReadAhead

	m, d := replayCost(t, bs)
	mustEqual(t, "no snapshot", m, w.Current())
	t.Logf("replay of %d entries, no snapshot: %s", n, d)
	if d.Lists != 2 || d.Gets > n+int64(readAhead) || d.Requests() > n+int64(readAhead)+2 {
		t.Errorf("no snapshot: %s; want 2 LISTs (snapshots, first page of the log) and at most %d GETs", d, n+readAhead)
	}

	if _, err := w.WriteSnapshot(ctx, w.Current()); err != nil {
		t.Fatal(err)
	}
	m, d = replayCost(t, bs)
	mustEqual(t, "snapshot at the end", m, w.Current())
	t.Logf("replay of %d entries, snapshot at %d: %s", n, n, d)
	if d.Lists != 2 || d.Gets != 3 || d.Requests() != 5 {
		t.Errorf("snapshot at the end: %s; want 2 LISTs, 3 GETs (snapshot, probe, hole check)", d)
	}

	// 100 more entries after the snapshot: 100 GETs plus a bounded overshoot.
	for i := range 100 {
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprintf("more-%d", i), uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	m, d = replayCost(t, bs)
	mustEqual(t, "snapshot plus 100", m, w.Current())
	t.Logf("replay of %d entries, snapshot at %d: %s", n+100, n, d)
	if d.Lists != 2 || d.Gets > 1+100+int64(readAhead) {
		t.Errorf("snapshot plus 100 entries: %s; want 2 LISTs and at most %d GETs", d, 1+100+readAhead)
	}
}

// TestAppendCost pins the requests of one append: a conditional PUT alone while the
// Store's knowledge of the log's end is younger than PruneGrace/2; a conditional PUT and a
// LIST after that, or with ConfirmEveryAppend, or when pruning has no grace.
func TestAppendCost(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	for _, c := range []struct {
		name  string
		opts  StoreOptions
		idle  time.Duration // clock advance before the append
		lists int64
	}{
		{"default", StoreOptions{}, 0, 0},
		{"just within the window", StoreOptions{}, DefaultPruneGrace/2 - time.Second, 0},
		{"idle past the window", StoreOptions{}, DefaultPruneGrace / 2, 1},
		{"ConfirmEveryAppend", StoreOptions{ConfirmEveryAppend: true}, 0, 1},
		{"no grace", StoreOptions{PruneGrace: -1}, 0, 1},
	} {
		bs := blobstore.NewMemory("db")
		c.opts.SnapshotEvery, c.opts.Clock = -1, clock
		w, err := NewStoreWithOptions(NewBlobStorage(bs), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		advance(c.idle)
		before := bs.Stats()
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST("a", 1)); err != nil {
			t.Fatal(err)
		}
		d := bs.Stats().Sub(before)
		t.Logf("%s: one append: %s", c.name, d)
		if d.CondPuts != 1 || d.Lists != c.lists || d.Requests() != 1+c.lists {
			t.Errorf("%s: append: %s; want 1 conditional PUT and %d LIST", c.name, d, c.lists)
		}
		// The next append follows the last one closely: no listing (unless disabled).
		before = bs.Stats()
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST("b", 2)); err != nil {
			t.Fatal(err)
		}
		d = bs.Stats().Sub(before)
		want := int64(0)
		if c.opts.ConfirmEveryAppend || c.opts.PruneGrace < 0 {
			want = 1
		}
		if d.CondPuts != 1 || d.Lists != want {
			t.Errorf("%s: next append: %s; want 1 conditional PUT and %d LIST", c.name, d, want)
		}
	}
}

// TestAppendCostWithSnapshots: with SnapshotEvery entries per snapshot, appends list the
// snapshots only when a snapshot is due: 1 + 2/SnapshotEvery requests per append (the
// LIST, the snapshot's PUT; pruning within the grace deletes nothing).
func TestAppendCostWithSnapshots(t *testing.T) {
	bs := blobstore.NewMemory("db")
	w, err := NewStoreWithOptions(NewBlobStorage(bs), StoreOptions{SnapshotEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	before := bs.Stats()
	const n = 100
	for i := range n {
		if _, err := w.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	d := bs.Stats().Sub(before)
	t.Logf("%d appends, a snapshot every 10: %s", n, d)
	if d.CondPuts != n+10 || d.Lists != 10 {
		t.Errorf("%d appends: %s; want %d conditional PUTs and 10 LISTs", n, d, n+10)
	}
	if st := w.Stats(); st.FastConfirms != n-10+1 { // the claim too
		t.Errorf("fast confirms %d, want %d", st.FastConfirms, n-10+1)
	}
}
