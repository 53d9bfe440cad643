package manifest

import (
	"fmt"
	"testing"

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
	if d.Lists != 1 || d.Gets > n+int64(readAhead) || d.Requests() > n+int64(readAhead)+1 {
		t.Errorf("no snapshot: %s; want 1 LIST and at most %d GETs", d, n+readAhead)
	}

	if _, err := w.WriteSnapshot(ctx, w.Current()); err != nil {
		t.Fatal(err)
	}
	m, d = replayCost(t, bs)
	mustEqual(t, "snapshot at the end", m, w.Current())
	t.Logf("replay of %d entries, snapshot at %d: %s", n, n, d)
	if d.Lists != 1 || d.Gets != 3 || d.Requests() != 4 {
		t.Errorf("snapshot at the end: %s; want 1 LIST, 3 GETs (snapshot, probe, hole check)", d)
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
	if d.Lists != 1 || d.Gets > 1+100+int64(readAhead) {
		t.Errorf("snapshot plus 100 entries: %s; want 1 LIST and at most %d GETs", d, 1+100+readAhead)
	}
}

// TestAppendCost pins the requests of one append: a conditional PUT and a LIST.
func TestAppendCost(t *testing.T) {
	bs := blobstore.NewMemory("db")
	w, err := NewStoreWithOptions(NewBlobStorage(bs), StoreOptions{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	before := bs.Stats()
	if _, err := w.AppendAddSSTableWithFence(ctx, testSST("a", 1)); err != nil {
		t.Fatal(err)
	}
	d := bs.Stats().Sub(before)
	t.Logf("one append: %s", d)
	if d.CondPuts != 1 || d.Lists != 1 || d.Requests() != 2 {
		t.Fatalf("append: %s; want 1 conditional PUT and 1 LIST", d)
	}
}
