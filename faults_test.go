package isledb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
)

// TestFlushFaults fails the i-th request of a flush, for every i until a flush needs no
// more, with a permanent failure (no retry inside the store) and, separately, with a lost
// reply. After each: the writer is still usable, a second Flush succeeds, every write
// acknowledged by a Flush is readable, and the manifest names only objects that exist.
func TestFlushFaults(t *testing.T) {
	for _, mode := range []string{"fail", "lose-reply"} {
		t.Run(mode, func(t *testing.T) {
			for i := int64(0); ; i++ {
				hit := runFlushFault(t, mode, i)
				if !hit {
					if i < 3 {
						t.Fatalf("a flush took only %d requests", i)
					}
					return
				}
			}
		})
	}
}

// runFlushFault reports whether request i of the flush was reached (and failed).
func runFlushFault(t *testing.T, mode string, i int64) bool {
	ctx := context.Background()
	store, fb := faultstore.NewMemoryStore("db")
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mu sync.Mutex
	var flushErrs []error
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.ValueStorage.BlobThreshold = 100
	wopts.OnFlushError = func(err error) { mu.Lock(); flushErrs = append(flushErrs, err); mu.Unlock() }
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// A first flush that succeeds: acknowledged data that must survive.
	put := func(k string, v []byte) {
		if err := w.Put([]byte(k), v); err != nil {
			t.Fatalf("i=%d: Put(%s): %v", i, k, err)
		}
	}
	put("acked", []byte("before"))
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("i=%d: first Flush: %v", i, err)
	}
	big := bytes.Repeat([]byte("B"), 300)
	put("a", []byte("1"))
	put("blob", big)
	put("z", []byte("26"))

	start := fb.Requests()
	var hit bool
	match := func(r faultstore.Request) bool {
		if r.Seq == start+i {
			hit = true
			return true
		}
		return false
	}
	if mode == "fail" {
		fb.FailPermanentlyIf(match, 1)
	} else {
		fb.LoseReply(match, 1)
	}
	firstErr := w.Flush(ctx)
	fb.Clear()
	if firstErr != nil && !hit {
		t.Fatalf("i=%d: Flush failed without a fault: %v", i, firstErr)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("i=%d (%s): Flush after the fault: %v (first: %v)", i, mode, err, firstErr)
	}
	// The writer is still usable.
	put("after", []byte("yes"))
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("i=%d: Flush of a later write: %v", i, err)
	}
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("i=%d: OpenReader: %v", i, err)
	}
	defer r.Close()
	want := map[string][]byte{"acked": []byte("before"), "a": []byte("1"), "blob": big, "z": []byte("26"), "after": []byte("yes")}
	for k, v := range want {
		got, ok, err := r.Get(ctx, []byte(k))
		if err != nil || !ok || !bytes.Equal(got, v) {
			t.Fatalf("i=%d (%s): Get(%s) = %.20q, %v, %v", i, mode, k, got, ok, err)
		}
	}
	checkManifestObjects(t, store, r)
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil && len(flushErrs) == 0 {
		t.Fatalf("i=%d: Flush failed (%v) but OnFlushError was not called", i, firstErr)
	}
	return hit
}

// checkManifestObjects asserts that every SST the reader's manifest names exists, and
// that a full scan (which reads every blob) succeeds.
func checkManifestObjects(t *testing.T, store *blobstore.Store, r *isledb.Reader) {
	t.Helper()
	ctx := context.Background()
	for _, id := range r.Manifest().AllSSTIDs() {
		if ok, err := store.Exists(ctx, store.SSTPath(id)); !ok || err != nil {
			t.Fatalf("the manifest names sst %s, which does not exist (%v)", id, err)
		}
	}
	if _, err := r.Scan(ctx, nil, nil); err != nil {
		t.Fatalf("scan of everything: %v", err)
	}
}

// TestCorruptSST flips one byte of an SST in the bucket: every read either returns the
// right value or fails with a corruption error; none returns wrong data.
func TestCorruptSST(t *testing.T) {
	for _, rangeRead := range []bool{false, true} {
		t.Run(fmt.Sprint("rangeRead=", rangeRead), func(t *testing.T) {
			ctx := context.Background()
			store := blobstore.NewMemory("db")
			db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
			defer db.Close()
			wopts := isledb.DefaultWriterOptions()
			wopts.Compression = "none"
			w, err := db.OpenWriter(ctx, wopts)
			if err != nil {
				t.Fatal(err)
			}
			const n = 2000
			for i := range n {
				_ = w.Put(fmt.Appendf(nil, "key-%05d", i), fmt.Appendf(nil, "value-%05d-%s", i, bytes.Repeat([]byte("v"), 40)))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			m, _ := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
			id := m.Manifest().L0SSTs[0].ID
			m.Close()
			data, _, err := store.Read(ctx, store.SSTPath(id))
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/3] ^= 0x10 // inside a data block
			if _, err := store.Write(ctx, store.SSTPath(id), data); err != nil {
				t.Fatal(err)
			}
			ropts := isledb.ReaderOpenOptions{CacheDir: t.TempDir()}
			if rangeRead {
				ropts.RangeReadMinSSTSize, ropts.AllowUnverifiedRangeRead = 1, true
				ropts.DisableSSTBackgroundFill = true // every block from the bucket
			}
			r, err := isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			errs := 0
			for i := range n {
				v, ok, err := r.Get(ctx, fmt.Appendf(nil, "key-%05d", i))
				if err != nil {
					if !errors.Is(err, isledb.ErrCorruption) {
						t.Fatalf("key %d: error %v does not wrap ErrCorruption", i, err)
					}
					errs++
					continue
				}
				if !ok || !bytes.HasPrefix(v, fmt.Appendf(nil, "value-%05d-", i)) {
					t.Fatalf("key %d: wrong data %q, %v", i, v, ok)
				}
			}
			if errs == 0 {
				t.Fatal("a corrupt SST was read without any error")
			}
			if !rangeRead && errs != n {
				t.Fatalf("%d of %d reads failed; a whole-file download must fail every read", errs, n)
			}
		})
	}
}
