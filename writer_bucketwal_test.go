package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

func bucketWALOptions(mode isledb.BucketWALMode) isledb.WriterOptions {
	o := isledb.DefaultWriterOptions()
	o.FlushInterval = -1
	o.BucketWAL = mode
	return o
}

// otherMachine returns a store over the same objects as s that shares nothing else with
// it (its own Store, stats and DB on top): a writer on another machine.
func otherMachine(s *blobstore.Store) *blobstore.Store {
	return blobstore.NewWithBackend(s.Backend(), s.BucketName(), s.Prefix())
}

func countObjects(t *testing.T, s *blobstore.Store, prefix string) int {
	t.Helper()
	objs, err := s.ListAll(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return len(objs)
}

// TestBucketWALSurvivesLostMachine: writes whose Sync returned are in WAL objects, not in
// any SST; a writer opened on another machine (its own store, no WALDir, its own caches)
// after the first is dropped without Close replays them all.
func TestBucketWALSurvivesLostMachine(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		s1 := b.Open(t)
		db1, err := isledb.OpenDB(ctx, s1, isledb.DBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w1, err := db1.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					if err := w1.Put(fmt.Appendf(nil, "k-%d-%02d", g, i), fmt.Appendf(nil, "v-%d-%d", g, i)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		bt := w1.NewBatch()
		bt.Put([]byte("batch-a"), []byte("A"))
		bt.Put([]byte("batch-b"), []byte("B"))
		bt.Delete([]byte("k-0-00"))
		if err := w1.Apply(ctx, bt); err != nil {
			t.Fatal(err)
		}
		if err := w1.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countObjects(t, s1, "sst/"); n != 0 {
			t.Fatalf("%d SSTs before any flush", n)
		}
		if n := countObjects(t, s1, "wal/"); n < 2 { // the fence and at least one group
			t.Fatalf("%d WAL objects", n)
		}
		// The machine is lost: w1 is never closed (nor used again).
		s2 := otherMachine(s1)
		db2, err := isledb.OpenDB(ctx, s2, isledb.DBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w2, err := db2.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
		if err != nil {
			t.Fatal(err)
		}
		if st := w2.WALReplayStats(); st.Replayed != 103 || st.Discarded != 0 {
			t.Fatalf("replay: %v", st)
		}
		for g := range 4 {
			for i := range 25 {
				want := fmt.Sprintf("v-%d-%d", g, i)
				if g == 0 && i == 0 {
					want = ""
				}
				mustGet(t, s2, fmt.Sprintf("k-%d-%02d", g, i), want)
			}
		}
		mustGet(t, s2, "batch-a", "A")
		mustGet(t, s2, "batch-b", "B")
		// w2 goes on writing after them.
		if err := w2.Put([]byte("after"), []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := w2.Close(); err != nil {
			t.Fatal(err)
		}
		mustGet(t, s2, "after", "x")
		if err := w1.Close(); !errors.Is(err, manifest.ErrFenced) {
			t.Fatalf("the lost writer's Close = %v, want ErrFenced", err)
		}
	})
}

// TestBucketWALFencedWriter: once a new writer opened, the old one (still running) can add
// nothing: its Sync fails with ErrFenced, and its writes appear in no later writer.
func TestBucketWALFencedWriter(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		s1 := b.Open(t)
		db1, _ := isledb.OpenDB(ctx, s1, isledb.DBOptions{})
		w1, err := db1.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
		if err != nil {
			t.Fatal(err)
		}
		if err := w1.Put([]byte("before"), []byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := w1.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		s2 := otherMachine(s1)
		db2, _ := isledb.OpenDB(ctx, s2, isledb.DBOptions{})
		w2, err := db2.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
		if err != nil {
			t.Fatal(err)
		}
		// w1 has not looked at the manifest since: its Put is accepted, its Sync is not.
		if err := w1.Put([]byte("late"), []byte("from-w1")); err != nil {
			t.Fatal(err)
		}
		err = w1.Sync(ctx)
		if !errors.Is(err, manifest.ErrFenced) || !errors.Is(err, isledb.ErrWriterFailed) {
			t.Fatalf("fenced writer's Sync = %v, want ErrWriterFailed and ErrFenced", err)
		}
		if err := w1.Put([]byte("later"), []byte("from-w1")); !errors.Is(err, manifest.ErrFenced) {
			t.Fatalf("fenced writer's Put = %v, want ErrFenced", err)
		}
		if err := w2.Put([]byte("w2"), []byte("2")); err != nil {
			t.Fatal(err)
		}
		if err := w2.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		// A third writer, after w2 is lost too: w2's writes and w1's first one, nothing late.
		s3 := otherMachine(s1)
		db3, _ := isledb.OpenDB(ctx, s3, isledb.DBOptions{})
		w3, err := db3.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
		if err != nil {
			t.Fatal(err)
		}
		if err := w3.Close(); err != nil {
			t.Fatal(err)
		}
		mustGet(t, s3, "before", "1")
		mustGet(t, s3, "w2", "2")
		mustGet(t, s3, "late", "")
		mustGet(t, s3, "later", "")
		r, err := isledb.OpenReader(ctx, s3, isledb.ReaderOpenOptions{CacheDir: t.TempDir(), ReadBucketWAL: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if v, ok, err := r.Get(ctx, []byte("late")); ok || err != nil {
			t.Fatalf("a reader of the bucket WAL sees the fenced write: %q, %v", v, err)
		}
		_ = w1.Close()
		_ = w2.Close()
	})
}

// TestBucketWALLostReply: a WAL PUT lands but its reply is lost, and the store cannot
// tell it was its own (the HEAD fails too): the writer reads the object back, sees its own
// bytes, and goes on. No batch is lost or written twice.
func TestBucketWALLostReply(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) { testBucketWALLostReply(t, b.Open(t)) })
}

func testBucketWALLostReply(t *testing.T, base *blobstore.Store) {
	ctx := context.Background()
	faulty, fb := faultstore.Wrap(otherMachine(base))
	db1, _ := isledb.OpenDB(ctx, faulty, isledb.DBOptions{})
	w1, err := db1.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALEachWrite))
	if err != nil {
		t.Fatal(err)
	}
	fb.LoseReply(faultstore.PutsTo("wal/"), 1)
	fb.FailIf(faultstore.OpsOn(faultstore.OpHead, "wal/"), -1, nil)
	for i := range 3 {
		bt := w1.NewBatch()
		for j := range 4 {
			bt.Put(fmt.Appendf(nil, "b%d-%d", i, j), fmt.Appendf(nil, "%d", i))
		}
		if err := w1.Apply(ctx, bt); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if st := w1.BucketWALStats(); st.Records != 3 {
		t.Fatalf("WAL stats %+v, want 3 records", st)
	}
	fb.Clear()
	if n := countObjects(t, base, "wal/"); n != 4 { // the fence and one object per batch
		t.Fatalf("%d WAL objects, want 4", n)
	}
	db2, _ := isledb.OpenDB(ctx, otherMachine(base), isledb.DBOptions{})
	w2, err := db2.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
	if err != nil {
		t.Fatal(err)
	}
	if st := w2.WALReplayStats(); st.Records != 12 || st.Replayed != 12 {
		t.Fatalf("replay %v, want 12 records replayed", st)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for j := range 4 {
			mustGet(t, base, fmt.Sprintf("b%d-%d", i, j), fmt.Sprint(i))
		}
	}
	_ = w1.Close()
}

func TestBucketWALOptions(t *testing.T) {
	o := isledb.DefaultWriterOptions()
	o.BucketWAL = isledb.BucketWALOnSync
	o.WALDir = t.TempDir()
	if err := o.Validate(); !errors.Is(err, isledb.ErrInvalidOptions) || !strings.Contains(err.Error(), "WALDir") {
		t.Fatalf("BucketWAL with WALDir: %v", err)
	}
	o = isledb.DefaultWriterOptions()
	o.BucketWAL = 7
	if err := o.Validate(); !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("BucketWAL 7: %v", err)
	}
	if d := isledb.DefaultWriterOptions(); d.BucketWAL != isledb.BucketWALOff || d.BucketWALMaxObjectSize != isledb.DefaultBucketWALMaxObjectSize {
		t.Fatalf("defaults: %v %d", d.BucketWAL, d.BucketWALMaxObjectSize)
	}
}

// TestBucketWALWriterWithoutItInBetween: a writer without BucketWAL that published after a
// bucket-WAL writer was lost may have used the same sequence numbers: the lost writer's
// records cannot be judged, and the next bucket-WAL writer fails with ErrWALStale unless
// DiscardUnresolvedWAL. A writer whose OpenWriter failed in between (it wrote its fence,
// published nothing) changes nothing.
func TestBucketWALWriterWithoutItInBetween(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) { testBucketWALWriterWithoutItInBetween(t, b.Open(t)) })
}

func testBucketWALWriterWithoutItInBetween(t *testing.T, base *blobstore.Store) {
	ctx := context.Background()
	open := func(o isledb.WriterOptions) (*isledb.Writer, error) {
		db, _ := isledb.OpenDB(ctx, otherMachine(base), isledb.DBOptions{})
		return db.OpenWriter(ctx, o)
	}
	w1, err := open(bucketWALOptions(isledb.BucketWALEachWrite))
	if err != nil {
		t.Fatal(err)
	}
	if err := w1.Put([]byte("lost"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	w1.CrashForTest()
	// A bucket-WAL writer whose open fails after its fence: its replay flush cannot land.
	faulty, fb := faultstore.Wrap(otherMachine(base))
	fb.FailPermanentlyIf(faultstore.PutsTo("sst/"), -1)
	db, _ := isledb.OpenDB(ctx, faulty, isledb.DBOptions{})
	fo := bucketWALOptions(isledb.BucketWALOnSync)
	if _, err := db.OpenWriter(ctx, fo); err == nil {
		t.Fatal("OpenWriter succeeded without its replay flush")
	}
	w2, err := open(bucketWALOptions(isledb.BucketWALOff))
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Put([]byte("plain"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := open(bucketWALOptions(isledb.BucketWALOnSync)); !errors.Is(err, isledb.ErrWALStale) {
		t.Fatalf("OpenWriter after a writer without BucketWAL = %v, want ErrWALStale", err)
	}
	o := bucketWALOptions(isledb.BucketWALOnSync)
	o.DiscardUnresolvedWAL = true
	w3, err := open(o)
	if err != nil {
		t.Fatal(err)
	}
	if st := w3.WALReplayStats(); st.Discarded != 1 || st.Replayed != 0 {
		t.Fatalf("replay %v, want 1 discarded", st)
	}
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	// What w3 discarded stays discarded: the next writer need not be told again.
	w4, err := open(bucketWALOptions(isledb.BucketWALOnSync))
	if err != nil {
		t.Fatalf("OpenWriter after a discard: %v", err)
	}
	if st := w4.WALReplayStats(); st.Records != 0 {
		t.Fatalf("replay after a discard %v, want nothing", st)
	}
	if err := w4.Close(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, base, "plain", "2")
}

// TestBucketWALFailedOpenInBetween: a writer that fenced the chain but failed to open
// leaves the lost writer's records to the next one, which replays them.
func TestBucketWALFailedOpenInBetween(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) { testBucketWALFailedOpenInBetween(t, b.Open(t)) })
}

func testBucketWALFailedOpenInBetween(t *testing.T, base *blobstore.Store) {
	ctx := context.Background()
	db1, _ := isledb.OpenDB(ctx, otherMachine(base), isledb.DBOptions{})
	w1, err := db1.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALEachWrite))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w1.Put(fmt.Appendf(nil, "k%d", i), []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	w1.CrashForTest()
	faulty, fb := faultstore.Wrap(otherMachine(base))
	fb.FailPermanentlyIf(faultstore.PutsTo("sst/"), -1) // the claim and fence land, the replay flush does not
	db, _ := isledb.OpenDB(ctx, faulty, isledb.DBOptions{})
	if _, err := db.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync)); err == nil {
		t.Fatal("OpenWriter succeeded without its replay flush")
	}
	if n := countObjects(t, base, "wal/"); n != 5 { // w1's fence, its 3 writes, the failed writer's fence
		t.Fatalf("%d WAL objects, want 5", n)
	}
	db3, _ := isledb.OpenDB(ctx, otherMachine(base), isledb.DBOptions{})
	w3, err := db3.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
	if err != nil {
		t.Fatal(err)
	}
	if st := w3.WALReplayStats(); st.Replayed != 3 {
		t.Fatalf("replay %v, want 3", st)
	}
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustGet(t, base, fmt.Sprintf("k%d", i), "1")
	}
}
