package isledb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// TestBatchAPI: a batch copies what it is given, applies puts, TTL puts and deletes in
// order, and is refused whole (nothing of it visible) when any write fails the checks Put
// makes or the batch is over MaxBatchSize. An empty batch is a no-op.
func TestBatchAPI(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, be testutil.Backend) {
		ctx := context.Background()
		store := be.Open(t)
		db := openTestDB(t, store)
		opts := isledb.DefaultWriterOptions()
		opts.FlushInterval = -1
		opts.WALDir = t.TempDir()
		opts.ValueStorage.MaxKeySize = 16
		opts.ValueStorage.MaxValueSize = 64
		opts.ValueStorage.BlobThreshold = 32
		opts.MaxBatchSize = 4 << 10
		w, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Put([]byte("old"), []byte("old-value")); err != nil {
			t.Fatal(err)
		}
		if err := w.Put([]byte("del"), []byte("to delete")); err != nil {
			t.Fatal(err)
		}

		b := w.NewBatch()
		if b.Len() != 0 || b.Size() != 0 {
			t.Fatalf("new batch: Len %d Size %d", b.Len(), b.Size())
		}
		key, val := []byte("k1"), []byte("v1")
		b.Put(key, val)
		copy(key, "XX") // the batch holds its own copy
		copy(val, "YY")
		b.PutWithTTL([]byte("ttl"), []byte("short-lived"), time.Hour)
		b.Delete([]byte("del"))
		b.Put([]byte("twice"), []byte("first"))
		b.Put([]byte("twice"), []byte("second")) // the later write wins
		b.Put([]byte("blob"), bytes.Repeat([]byte("b"), 40))
		b.DeleteWithTTL([]byte("old"), time.Hour)
		if b.Len() != 7 || b.Size() <= 0 {
			t.Fatalf("Len %d Size %d", b.Len(), b.Size())
		}
		if err := w.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"k1": "v1", "ttl": "short-lived", "twice": "second", "blob": strings.Repeat("b", 40)}
		checkKeys(t, store, want, "XX", "del", "old")

		// A batch refused whole: the good writes before the bad one are not applied.
		cases := []struct {
			name string
			err  error
			bad  func(b *isledb.Batch)
		}{
			{"empty key", isledb.ErrEmptyKey, func(b *isledb.Batch) { b.Put(nil, []byte("v")) }},
			{"empty key delete", isledb.ErrEmptyKey, func(b *isledb.Batch) { b.Delete(nil) }},
			{"key too large", isledb.ErrKeyTooLarge, func(b *isledb.Batch) { b.Put(bytes.Repeat([]byte("k"), 17), nil) }},
			{"value too large", isledb.ErrValueTooLarge, func(b *isledb.Batch) { b.Put([]byte("k"), bytes.Repeat([]byte("v"), 65)) }},
			{"zero TTL", isledb.ErrInvalidTTL, func(b *isledb.Batch) { b.PutWithTTL([]byte("k"), []byte("v"), 0) }},
			{"negative delete TTL", isledb.ErrInvalidTTL, func(b *isledb.Batch) { b.DeleteWithTTL([]byte("k"), -time.Second) }},
			{"batch too large", isledb.ErrBatchTooLarge, func(b *isledb.Batch) {
				for i := range 100 {
					b.Put(fmt.Appendf(nil, "big%03d", i), bytes.Repeat([]byte("v"), 60))
				}
			}},
		}
		for _, c := range cases {
			b.Reset()
			if b.Len() != 0 || b.Size() != 0 {
				t.Fatalf("after Reset: Len %d Size %d", b.Len(), b.Size())
			}
			b.Put([]byte("k1"), []byte("overwritten"))
			b.Delete([]byte("twice"))
			c.bad(b)
			b.Put([]byte("after"), []byte("v"))
			if err := w.Apply(ctx, b); !errors.Is(err, c.err) {
				t.Fatalf("%s: Apply = %v, want %v", c.name, err, c.err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, store, want, "after", "big000", "big099")

		// An empty batch changes nothing and writes nothing.
		before := store.Stats()
		b.Reset()
		if err := w.Apply(ctx, b); err != nil {
			t.Fatalf("empty batch: %v", err)
		}
		if err := w.Apply(ctx, w.NewBatch()); err != nil {
			t.Fatalf("new empty batch: %v", err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if d := store.Stats().Sub(before); d.Puts+d.CondPuts != 0 {
			t.Fatalf("empty batches wrote to the bucket: %+v", d)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Apply(ctx, b); err != nil {
			t.Fatalf("empty batch on a closed writer: %v", err)
		}
		b.Put([]byte("late"), []byte("v"))
		if err := w.Apply(ctx, b); !errors.Is(err, isledb.ErrClosed) {
			t.Fatalf("Apply on a closed writer = %v, want ErrClosed", err)
		}
	})
}

func batchKey(batch, i int) []byte { return fmt.Appendf(nil, "b%03d-%04d", batch, i) }

// TestBatchAtomicVisibility applies batches larger than the memtable while a reader
// refreshes, scans and reads the change feed in a loop: it sees each batch whole or not at
// all. Each batch
// is in exactly one SST (one manifest entry): a batch written as single Puts would span two.
func TestBatchAtomicVisibility(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, be testutil.Backend) {
		ctx := context.Background()
		store := be.Open(t)
		db := openTestDB(t, store)
		opts := isledb.DefaultWriterOptions()
		opts.FlushInterval = -1
		opts.MemtableSize = 64 << 10
		w, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		const batches, perBatch = 12, 100 // 100 writes of ~1 KiB: above the 64 KiB memtable
		value := bytes.Repeat([]byte("v"), 1000)

		r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		check := func() error {
			if err := r.Refresh(ctx); err != nil {
				return err
			}
			kvs, err := r.Scan(ctx, nil, nil)
			if err != nil {
				return err
			}
			seen := map[int]int{}
			for _, kv := range kvs {
				var bi, i int
				if _, err := fmt.Sscanf(string(kv.Key), "b%03d-%04d", &bi, &i); err != nil {
					return fmt.Errorf("unexpected key %q", kv.Key)
				}
				seen[bi]++
			}
			for bi, n := range seen {
				if n != perBatch {
					return fmt.Errorf("reader sees %d of the %d writes of batch %d", n, perBatch, bi)
				}
			}
			// The change feed of the same version holds the same whole batches.
			changed := map[int]int{}
			if _, err := r.Changes(ctx, isledb.ChangeOptions{}, func(c isledb.Change) error {
				var bi, i int
				if _, err := fmt.Sscanf(string(c.Key), "b%03d-%04d", &bi, &i); err != nil {
					return fmt.Errorf("unexpected change of %q", c.Key)
				}
				changed[bi]++
				return nil
			}); err != nil {
				return err
			}
			for bi, n := range changed {
				if n != perBatch || seen[bi] != perBatch {
					return fmt.Errorf("change feed holds %d of the %d writes of batch %d (scan: %d)", n, perBatch, bi, seen[bi])
				}
			}
			if len(changed) != len(seen) {
				return fmt.Errorf("change feed holds %d batches, scan %d", len(changed), len(seen))
			}
			return nil
		}
		done := make(chan struct{})
		errc := make(chan error, 1)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if err := check(); err != nil {
					errc <- err
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}()
		for bi := range batches {
			b := w.NewBatch()
			for i := range perBatch {
				b.Put(batchKey(bi, i), value)
			}
			for {
				err := w.Apply(ctx, b)
				if errors.Is(err, isledb.ErrBackpressure) {
					if err := w.Flush(ctx); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			if bi%3 == 2 {
				if err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		close(done)
		wg.Wait()
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
		if err := check(); err != nil {
			t.Fatal(err)
		}
		// Every batch lies in one SST, and that SST holds nothing else.
		m := r.Manifest()
		for bi := range batches {
			lo, hi := batchKey(bi, 0), batchKey(bi, perBatch-1)
			var in []string
			for _, sst := range m.L0SSTs {
				if bytes.Compare(sst.MaxKey, lo) >= 0 && bytes.Compare(sst.MinKey, hi) <= 0 {
					in = append(in, fmt.Sprintf("%s [%s, %s]", sst.ID, sst.MinKey, sst.MaxKey))
				}
			}
			if len(in) != 1 {
				t.Fatalf("batch %d is in %d SSTs, want 1: %v", bi, len(in), in)
			}
		}
		if kvs, err := r.Scan(ctx, nil, nil); err != nil || len(kvs) != batches*perBatch {
			t.Fatalf("final scan: %d pairs, %v; want %d", len(kvs), err, batches*perBatch)
		}
	})
}

// TestBatchTornWALTail: a crash in the middle of logging the last batch (its WAL record
// cut short) loses that whole batch; the batches logged before it replay whole.
func TestBatchTornWALTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := blobstore.NewFile(ctx, filepath.Join(dir, "bucket"), "db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := openTestDB(t, store)
	const batches, perBatch = 5, 20
	w, err := db.OpenWriter(ctx, walWriterOptions(filepath.Join(dir, "wal")))
	if err != nil {
		t.Fatal(err)
	}
	for bi := range batches {
		b := w.NewBatch()
		for i := range perBatch {
			b.Put(batchKey(bi, i), fmt.Appendf(nil, "value-%d-%d", bi, i))
		}
		if err := w.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	w.CrashForTest()
	segs, err := filepath.Glob(filepath.Join(dir, "wal", "writer", "*.wal"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("WAL segments %v, %v; want one", segs, err)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(segs[0], int64(walDataEnd(data)-3)); err != nil {
		t.Fatal(err)
	}
	w, err = db.OpenWriter(ctx, walWriterOptions(filepath.Join(dir, "wal")))
	if err != nil {
		t.Fatalf("OpenWriter after a torn batch: %v", err)
	}
	if st := w.WALReplayStats(); st.Replayed != (batches-1)*perBatch {
		t.Errorf("replay: %v; want %d replayed", st, (batches-1)*perBatch)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for bi := range batches - 1 {
		for i := range perBatch {
			want[string(batchKey(bi, i))] = fmt.Sprintf("value-%d-%d", bi, i)
		}
	}
	var absent []string
	for i := range perBatch {
		absent = append(absent, string(batchKey(batches-1, i)))
	}
	checkKeys(t, store, want, absent...)
}

// TestBatchStaleReplayIsWhole: a superseded writer's unpublished batch holding one write
// replay cannot judge (a key the database holds no version of) and one it could rebase is
// unresolved as a whole: OpenWriter fails with ErrWALStale, and with DiscardUnresolvedWAL
// neither write comes back. A batch replay can judge has its rebasable writes re-added and
// those a later writer overwrote skipped.
func TestBatchStaleReplayIsWhole(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	dirA := t.TempDir()
	a, err := db.OpenWriter(ctx, walWriterOptions(dirA))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"y", "r"} {
		if err := a.Put([]byte(k), []byte(k+"-flushed")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b := a.NewBatch()
	b.Put([]byte("y"), []byte("y-batch"))   // rebasable alone: y's newest version is A's
	b.Put([]byte("new"), []byte("n-batch")) // unresolved alone: no version in the database
	if err := a.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := a.Put([]byte("solo"), []byte("solo-A")); err != nil { // superseded: B writes solo
		t.Fatal(err)
	}
	// A batch replay can judge: r is rebased, solo2 superseded (B writes it).
	b.Reset()
	b.Put([]byte("r"), []byte("r-batch"))
	b.Put([]byte("solo2"), []byte("solo2-A"))
	if err := a.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	a.CrashForTest()

	// Another writer takes over and publishes, so A's log is stale.
	wb, err := db.OpenWriter(ctx, walWriterOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"solo", "solo2"} {
		if err := wb.Put([]byte(k), []byte(k+"-B")); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := db.OpenWriter(ctx, walWriterOptions(dirA)); !errors.Is(err, isledb.ErrWALStale) {
		t.Fatalf("OpenWriter on A's WAL = %v, want ErrWALStale", err)
	}
	opts := walWriterOptions(dirA)
	opts.DiscardUnresolvedWAL = true
	c, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	st := c.WALReplayStats()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, store, map[string]string{"y": "y-flushed", "solo": "solo-B", "r": "r-batch", "solo2": "solo2-B"}, "new")
	if st.Discarded != 2 || st.Rebased != 1 || st.Superseded != 2 {
		t.Errorf("replay: %v; want the first batch's 2 writes discarded, r rebased, solo and solo2 superseded", st)
	}
}
