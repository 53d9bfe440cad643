package isledb

import (
	"context"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/bucketwal"
	"github.com/isledb/isledb/internal/testutil"
)

// TestGCDeletesCoveredWALObjects: GC deletes the WAL objects an SST covers once they are a
// grace period old, and keeps the uncovered ones and the newest; a writer opened after the
// pass still recovers everything.
func TestGCDeletesCoveredWALObjects(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, w, opts, put := openBucketWALWriter(t, store)
		for _, k := range []string{"a", "b", "c"} { // positions 2, 3, 4 (1 is the fence)
			put(k)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		put("d") // position 5: everything below is covered
		put("e") // position 6: not covered, and the newest
		positions := func() []uint64 {
			pos, _, err := bucketwal.List(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			return pos
		}
		if got := positions(); len(got) != 6 {
			t.Fatalf("positions %v, want 1 to 6", got)
		}
		clock := testutil.NewFakeClock(time.Now())
		c, err := db.OpenCompactor(ctx, CompactorOptions{GCGracePeriod: time.Minute, GCInterval: time.Nanosecond, clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		st, err := c.RunGC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.WALObjectsDeleted != 0 {
			t.Fatalf("deleted %d WAL objects younger than the grace period", st.WALObjectsDeleted)
		}
		clock.Advance(2 * time.Minute)
		if st, err = c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
		// Position 6 says everything below 5 is covered (d at 5 is not flushed yet).
		if got := positions(); st.WALObjectsDeleted != 4 || len(got) != 2 || got[0] != 5 || got[1] != 6 {
			t.Fatalf("deleted %d, left %v; want 1 to 4 deleted, 5 and 6 left", st.WALObjectsDeleted, got)
		}
		w.CrashForTest()
		w2, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if rs := w2.WALReplayStats(); rs.Replayed != 2 {
			t.Fatalf("replay %v, want d and e replayed", rs)
		}
		r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			if v, ok, err := r.Get(ctx, []byte(k)); err != nil || !ok || string(v) != "v-"+k {
				t.Fatalf("Get(%s) = %q, %v, %v", k, v, ok, err)
			}
		}
		if err := w2.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReaderBucketWALAfterGC: a reader that did not refresh while GC deleted the next WAL
// object it would have read lists wal/ again and goes on; an idle refresh costs no LIST.
func TestReaderBucketWALAfterGC(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, w, _, put := openBucketWALWriter(t, store)
	rstore := blobstore.NewWithBackend(store.Backend(), "", "db")
	r, err := OpenReader(ctx, rstore, ReaderOpenOptions{CacheDir: t.TempDir(), ReadBucketWAL: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	put("a") // position 2
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	before := rstore.Stats()
	if err := r.Refresh(ctx); err != nil { // idle
		t.Fatal(err)
	}
	if d := rstore.Stats().Sub(before); d.Lists != 0 || d.Gets > 2 {
		t.Fatalf("an idle refresh cost %v, want no LIST and at most 2 GETs", d)
	}
	put("b") // position 3, never read by the reader
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	put("c") // position 4: below it is covered
	clock := testutil.NewFakeClock(time.Now().Add(time.Hour))
	c, err := db.OpenCompactor(ctx, CompactorOptions{GCGracePeriod: time.Minute, GCInterval: time.Nanosecond, clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, err := c.RunGC(ctx); err != nil || st.WALObjectsDeleted != 3 {
		t.Fatalf("GC: %+v, %v; want positions 1 to 3 deleted", st, err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if v, ok, err := r.Get(ctx, []byte(k)); err != nil || !ok || string(v) != "v-"+k {
			t.Fatalf("Get(%s) = %q, %v, %v", k, v, ok, err)
		}
	}
	put("d")
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := r.Get(ctx, []byte("d")); err != nil || !ok || string(v) != "v-d" {
		t.Fatalf("Get(d) after GC = %q, %v, %v", v, ok, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// openBucketWALWriter opens a database on store and a writer on the bucket WAL (Sync makes
// writes durable; no timed flushes), and returns the writer's options. put writes
// k = "v-"+k and syncs it. The database is closed when the test ends.
func openBucketWALWriter(t *testing.T, store *blobstore.Store) (*DB, *Writer, WriterOptions, func(k string)) {
	t.Helper()
	ctx := context.Background()
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	opts := DefaultWriterOptions()
	opts.FlushInterval = -1
	opts.BucketWAL = BucketWALOnSync
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	put := func(k string) {
		t.Helper()
		if err := w.Put([]byte(k), []byte("v-"+k)); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return db, w, opts, put
}
