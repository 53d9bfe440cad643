package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestSnapshotKeepsItsView: a snapshot taken after some writes returns exactly those writes
// (Get, Scan, iterators, the change feed) after more writes, flushes, a compaction that
// drops the versions it sees, a GC pass and a Refresh, while fresh reads and a new snapshot
// return the new state. While it is open, the reader keeps its SSTs: reading it after the
// Refresh costs no bucket request.
func TestSnapshotKeepsItsView(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, be testutil.Backend) {
		ctx := context.Background()
		store := be.Open(t)
		db := openTestDB(t, store)
		wopts := isledb.DefaultWriterOptions()
		wopts.FlushInterval = -1
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		key := func(i int) string { return fmt.Sprintf("k%02d", i) }
		put := func(k, v string) {
			t.Helper()
			if err := w.Put([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		flush := func() {
			t.Helper()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		old := map[string]string{}
		for i := range 20 {
			put(key(i), "v1-"+key(i))
			old[key(i)] = "v1-" + key(i)
		}
		put("d", "to be deleted")
		old["d"] = "to be deleted"
		flush()
		for i := range 10 {
			put(key(i), "v2-"+key(i))
			old[key(i)] = "v2-" + key(i)
		}
		flush()

		r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		snap, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Close()
		checkView(t, snap, old) // also opens (caches) the snapshot's SSTs

		// The database moves on: overwrites, a delete, a new key, two flushes, a
		// compaction of everything (the versions the snapshot sees are dropped), GC.
		fresh := map[string]string{}
		for i := range 20 {
			put(key(i), "v3-"+key(i))
			fresh[key(i)] = "v3-" + key(i)
		}
		if err := w.Delete([]byte("d")); err != nil {
			t.Fatal(err)
		}
		flush()
		put("n", "new")
		fresh["n"] = "new"
		flush()
		copts := isledb.DefaultCompactorOptions()
		copts.L0CompactionThreshold = 2
		c, err := db.OpenCompactor(ctx, copts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.RunCompaction(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		cur := r.Manifest()
		live := map[string]bool{}
		for _, id := range cur.AllSSTIDs() {
			live[id] = true
		}
		for _, id := range snap.Manifest().AllSSTIDs() {
			if live[id] {
				t.Fatalf("snapshot SST %s is still live after the compaction: nothing was compacted", id)
			}
		}

		before := store.Stats()
		checkView(t, snap, old)
		if d := store.Stats().Sub(before); d.Gets+d.RangedGets != 0 {
			t.Errorf("reading the snapshot after Refresh made %d GETs: its SSTs were dropped", d.Gets+d.RangedGets)
		}
		// Fresh reads and a new snapshot see the new state.
		checkView(t, r, fresh)
		snap2, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		checkView(t, snap2, fresh)
		if snap2.Seq() <= snap.Seq() {
			t.Errorf("new snapshot at seq %d, old at %d", snap2.Seq(), snap.Seq())
		}
		if err := snap2.Close(); err != nil {
			t.Fatal(err)
		}
		// The change feed of the snapshot ends at its seq.
		var changes int
		next, err := snap.Changes(ctx, isledb.ChangeOptions{}, func(isledb.Change) error { changes++; return nil })
		if err != nil || next != snap.Seq()+1 || changes == 0 {
			t.Errorf("snapshot Changes: next %d (seq %d), %d changes, %v", next, snap.Seq(), changes, err)
		}

		// Closing the snapshot lets the reader drop the SSTs only it used.
		open := r.SSTCacheStats().OpenReaders
		if err := snap.Close(); err != nil {
			t.Fatal(err)
		}
		if after := r.SSTCacheStats().OpenReaders; after >= open {
			t.Errorf("open SSTs %d after closing the snapshot, %d before", after, open)
		}
		if _, _, err := snap.Get(ctx, []byte("k00")); !errors.Is(err, isledb.ErrClosed) {
			t.Errorf("Get on a closed snapshot = %v, want ErrClosed", err)
		}
		if err := snap.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		checkView(t, r, fresh)
	})
}

// viewReader is what Reader and Snapshot share.
type viewReader interface {
	Get(ctx context.Context, key []byte) ([]byte, bool, error)
	Scan(ctx context.Context, minKey, maxKey []byte) ([]isledb.KV, error)
	NewIterator(ctx context.Context, opts isledb.IteratorOptions) (*isledb.Iterator, error)
}

// checkView fails the test unless v holds exactly want, by Get, Scan and an iterator.
func checkView(t *testing.T, v viewReader, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	for k, val := range want {
		got, ok, err := v.Get(ctx, []byte(k))
		if err != nil || !ok || string(got) != val {
			t.Fatalf("Get(%s) = %q, %v, %v; want %q", k, got, ok, err, val)
		}
	}
	for _, k := range []string{"d", "n"} {
		if _, in := want[k]; !in {
			if got, ok, err := v.Get(ctx, []byte(k)); err != nil || ok {
				t.Fatalf("Get(%s) = %q, %v, %v; want absent", k, got, ok, err)
			}
		}
	}
	kvs, err := v.Scan(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != len(want) {
		t.Fatalf("Scan: %d pairs, want %d", len(kvs), len(want))
	}
	for _, kv := range kvs {
		if want[string(kv.Key)] != string(kv.Value) {
			t.Fatalf("Scan: %s = %q, want %q", kv.Key, kv.Value, want[string(kv.Key)])
		}
	}
	it, err := v.NewIterator(ctx, isledb.IteratorOptions{MinKey: []byte("k05"), MaxKey: []byte("k07")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		if want[string(it.Key())] != string(it.Value()) {
			t.Fatalf("iterator: %s = %q, want %q", it.Key(), it.Value(), want[string(it.Key())])
		}
		n++
	}
	if err := it.Close(); err != nil || n != 3 {
		t.Fatalf("iterator over [k05, k07]: %d pairs, %v", n, err)
	}
}
