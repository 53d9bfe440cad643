package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// inPlaceDB writes n keys over a few SSTs into a file bucket in dir and returns the store.
func inPlaceDB(t *testing.T, dir string, n int) *blobstore.Store {
	t.Helper()
	ctx := context.Background()
	store, err := blobstore.NewFile(ctx, dir, "db")
	if err != nil {
		t.Fatal(err)
	}
	db := openTestDB(t, store)
	o := isledb.DefaultWriterOptions()
	o.FlushInterval = -1
	w, err := db.OpenWriter(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range n {
		if err := w.Put(fmt.Appendf(nil, "k%05d", i), fmt.Appendf(nil, "v%05d", i)); err != nil {
			t.Fatal(err)
		}
		if i%(n/4) == n/4-1 {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return store
}

func inPlaceReader(t *testing.T, store *blobstore.Store, inPlace bool) *isledb.Reader {
	t.Helper()
	r, err := isledb.OpenReader(context.Background(), store, isledb.ReaderOpenOptions{
		CacheDir: t.TempDir(), RangeReadMinSSTSize: 1, AllowUnverifiedRangeRead: true,
		DisableSSTBackgroundFill: true, ReadSSTsInPlace: inPlace,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestReaderSSTsInPlace: with ReadSSTsInPlace on a file bucket, SSTs that are read by range
// are read from the bucket's own files: every key reads back and no ranged GET is sent
// (without the option, every block is one). A file of the wrong size is corruption, a
// missing one not found; on the memory backend the option changes nothing.
func TestReaderSSTsInPlace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 4000
	store := inPlaceDB(t, dir, n)
	readAllKeys := func(r *isledb.Reader) {
		t.Helper()
		for i := range n {
			v, ok, err := r.Get(ctx, fmt.Appendf(nil, "k%05d", i))
			if err != nil || !ok || string(v) != fmt.Sprintf("v%05d", i) {
				t.Fatalf("Get(k%05d) = %q, %v, %v", i, v, ok, err)
			}
		}
	}
	for _, inPlace := range []bool{false, true} {
		before := store.Stats().RangedGets
		r := inPlaceReader(t, store, inPlace)
		readAllKeys(r)
		got := store.Stats().RangedGets - before
		switch {
		case inPlace && got != 0:
			t.Fatalf("in place: %d ranged GETs, want 0", got)
		case !inPlace && got == 0:
			t.Fatal("by range: no ranged GET; the comparison proves nothing")
		}
	}

	// Damage: a truncated SST file, then a missing one.
	ssts, err := filepath.Glob(filepath.Join(dir, "db", "sst", "*.sst"))
	if err != nil || len(ssts) == 0 {
		t.Fatalf("sst files: %v, %v", ssts, err)
	}
	if err := os.Truncate(ssts[0], 100); err != nil {
		t.Fatal(err)
	}
	r := inPlaceReader(t, store, true)
	var sawCorrupt bool
	for i := range n {
		if _, _, err := r.Get(ctx, fmt.Appendf(nil, "k%05d", i)); err != nil {
			if !errors.Is(err, isledb.ErrCorruption) {
				t.Fatalf("Get on a truncated SST: %v, want ErrCorruption", err)
			}
			sawCorrupt = true
			break
		}
	}
	if !sawCorrupt {
		t.Fatal("no read touched the truncated SST")
	}
	if err := os.Remove(ssts[0]); err != nil {
		t.Fatal(err)
	}
	r = inPlaceReader(t, store, true)
	var sawMissing bool
	for i := range n {
		if _, _, err := r.Get(ctx, fmt.Appendf(nil, "k%05d", i)); err != nil {
			if !errors.Is(err, blobstore.ErrNotFound) {
				t.Fatalf("Get on a missing SST: %v, want blobstore.ErrNotFound", err)
			}
			sawMissing = true
			break
		}
	}
	if !sawMissing {
		t.Fatal("no read touched the missing SST")
	}

	// Memory backend: ignored.
	mem := blobstore.NewMemory("db")
	db := openTestDB(t, mem)
	w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := mem.Stats().RangedGets
	mr := inPlaceReader(t, mem, true)
	if v, ok, err := mr.Get(ctx, []byte("a")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("memory: Get = %q, %v, %v", v, ok, err)
	}
	if mem.Stats().RangedGets == before {
		t.Fatal("memory backend: no ranged GET, but it has no files to read in place")
	}
}
