package isledb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// TestSnapshotGCLimit checks the documented limit of a snapshot against GC on a fake clock:
// within GCGracePeriod of the compaction that removed its SSTs, GC deletes none of them and
// a snapshot that never read them reads them from the bucket; once the grace period has
// passed, GC deletes them, a snapshot holding them open (read before) keeps working, and
// one that never opened them fails with blobstore.ErrNotFound.
func TestSnapshotGCLimit(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for round := range 2 {
		for i := range 10 {
			if err := w.Put(fmt.Appendf(nil, "k%d", i), fmt.Appendf(nil, "v%d-%d", round, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	openSnap := func() (*Reader, *Snapshot) {
		r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		s, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return r, s
	}
	_, early := openSnap() // read within the grace period
	_, late := openSnap()  // first read after it
	for i := range 10 {
		if err := w.Put(fmt.Appendf(nil, "k%d", i), []byte("newer")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	const grace = time.Hour
	c, err := db.OpenCompactor(ctx, CompactorOptions{L0CompactionThreshold: 2, GCGracePeriod: grace, GCInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	clock := testutil.NewFakeClock(time.Now())
	c.gc.SetClock(clock.Now)
	if err := c.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(c.ms.Current().L0SSTs); n != 0 {
		t.Fatalf("%d L0 SSTs left after the compaction", n)
	}
	check := func(s *Snapshot) error {
		for i := range 10 {
			v, ok, err := s.Get(ctx, fmt.Appendf(nil, "k%d", i))
			if err != nil {
				return err
			}
			if want := fmt.Sprintf("v1-%d", i); !ok || string(v) != want {
				t.Fatalf("snapshot Get(k%d) = %q, %v; want %q", i, v, ok, want)
			}
		}
		return nil
	}
	clock.Advance(grace - time.Minute)
	st, err := c.RunGC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.SSTsDeleted != 0 {
		t.Fatalf("GC deleted %d SSTs within the grace period", st.SSTsDeleted)
	}
	if err := check(early); err != nil {
		t.Fatalf("snapshot within the grace period: %v", err)
	}

	clock.Advance(2 * time.Minute)
	if st, err = c.RunGC(ctx); err != nil {
		t.Fatal(err)
	}
	if st.SSTsDeleted < 2 {
		t.Fatalf("GC deleted %d SSTs after the grace period, want the 2 compacted ones", st.SSTsDeleted)
	}
	if err := check(early); err != nil {
		t.Fatalf("snapshot holding its SSTs open, after GC deleted them: %v", err)
	}
	if err := check(late); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("snapshot first read after GC deleted its SSTs: %v, want blobstore.ErrNotFound", err)
	}
}
