package manifest

import (
	"fmt"
	"testing"

	"github.com/isledb/isledb/blobstore"
)

// buildLog appends n entries (a claim, then adds and removes so L0 stays small) to a memory
// bucket without snapshots, and returns the bucket and the writer's Store.
func buildLog(t testing.TB, n int) (*blobstore.Store, *Store) {
	t.Helper()
	bs := blobstore.NewMemory("db")
	w, err := NewStoreWithOptions(NewBlobStorage(bs), StoreOptions{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ClaimWriter(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		id := fmt.Sprint((i + 1) / 2)
		if i%2 == 1 {
			_, err = w.AppendAddSSTableWithFence(ctx, testSST(id, uint64(i)))
		} else {
			_, err = w.AppendRemoveSSTablesWithFence(ctx, []string{id})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
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
	if d.Lists != 1 || d.Gets != 2 || d.Requests() != 3 {
		t.Errorf("snapshot at the end: %s; want 1 LIST, 2 GETs (snapshot, probe)", d)
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
