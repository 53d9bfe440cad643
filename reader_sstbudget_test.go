package isledb_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// sstBudgetDB writes nSST SSTs of about perSST bytes each (incompressible 1 KiB values,
// one explicit Flush per SST) and returns the store and every key with its value.
func sstBudgetDB(t *testing.T, nSST, perSST int) (*blobstore.Store, [][2][]byte) {
	t.Helper()
	store := blobstore.NewMemory("db")
	return store, writeSSTs(t, store, nSST, perSST)
}

// writeSSTs writes nSST SSTs of about perSST bytes each into store (incompressible 1 KiB
// values, one explicit Flush per SST) and returns every key with its value.
func writeSSTs(t *testing.T, store *blobstore.Store, nSST, perSST int) [][2][]byte {
	t.Helper()
	ctx := context.Background()
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.MemtableSize = 4 << 20 // above perSST: each Flush makes one SST
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(13, 2))
	var kvs [][2][]byte
	for s := range nSST {
		for i := range perSST / 1024 {
			k := fmt.Appendf(nil, "k%04d-%05d", s, i)
			v := make([]byte, 1024)
			for j := range v {
				v[j] = byte(rng.Uint32())
			}
			if err := w.Put(k, v); err != nil {
				t.Fatal(err)
			}
			kvs = append(kvs, [2][]byte{k, v})
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return kvs
}

// realDiskUse returns the bytes the files under dir really hold: the files there, plus the
// files of this process that were unlinked from under dir but are still open (their space is
// freed only when closed). It skips the test where /proc/self/fd is not available.
func realDiskUse(t *testing.T, dir string) (total int64, unlinkedOpen int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list open files: %v", err)
	}
	for _, fd := range fds {
		p := filepath.Join("/proc/self/fd", fd.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.HasSuffix(target, " (deleted)") || !strings.HasPrefix(target, dir+string(filepath.Separator)) {
			continue
		}
		info, err := os.Stat(p) // the open file itself, though unlinked
		if err != nil {
			continue
		}
		total += info.Size()
		unlinkedOpen++
	}
	return total, unlinkedOpen
}

// TestReaderSSTCacheBoundsRealDiskUse: with many SSTs read over and over through a small
// SST cache, the disk really held for SSTs (cached files plus evicted files still open)
// stays within SSTCacheSize once the reads are done.
func TestReaderSSTCacheBoundsRealDiskUse(t *testing.T) {
	ctx := context.Background()
	const perSST = 256 << 10
	store, kvs := sstBudgetDB(t, 24, perSST)
	cache, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ropts := isledb.ReaderOpenOptions{CacheDir: cache, SSTCacheSize: 1 << 20}
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	// Measured between reads, when no SST is in use: the cache alone holds disk space. (While
	// a read is in flight, the SSTs it holds may add to it.)
	limit := ropts.SSTCacheSize
	check := func(when string) {
		t.Helper()
		used, open := realDiskUse(t, cache)
		if used > limit {
			t.Fatalf("%s: %d bytes really held for SSTs (%d unlinked files still open), limit %d (SSTCacheSize %d); stats %+v",
				when, used, open, limit, ropts.SSTCacheSize, r.SSTCacheStats())
		}
	}
	for round := range 3 {
		for i, kv := range kvs {
			v, ok, err := r.Get(ctx, kv[0])
			if err != nil || !ok || !bytes.Equal(v, kv[1]) {
				t.Fatalf("round %d: Get(%s) = %d bytes, %v, %v", round, kv[0], len(v), ok, err)
			}
			if i%500 == 499 {
				check(fmt.Sprintf("round %d, key %d", round, i))
			}
		}
		check(fmt.Sprintf("after Get round %d", round))
		all, err := r.Scan(ctx, nil, nil)
		if err != nil || len(all) != len(kvs) {
			t.Fatalf("round %d: Scan = %d pairs, %v; want %d", round, len(all), err, len(kvs))
		}
		check(fmt.Sprintf("after Scan round %d", round))
	}
	if s := r.SSTCacheStats(); s.DiskEvictions == 0 {
		t.Fatalf("no evictions (stats %+v): the test does not exercise the budget", s)
	}
}

// TestReaderSSTLargerThanCache: SSTs larger than SSTCacheSize are not held whole in memory
// by the reader: they are read by range, or, when range reads are not allowed, downloaded
// for each use and dropped once it is done.
func TestReaderSSTLargerThanCache(t *testing.T) {
	ctx := context.Background()
	const nSST = 6
	store, kvs := sstBudgetDB(t, nSST, 1536<<10)
	for _, tc := range []struct {
		name      string
		wholeFile bool
	}{{"range", false}, {"wholeFile", true}} {
		t.Run(tc.name, func(t *testing.T) {
			// Validated (the zero value) and no AllowUnverifiedRangeRead: whole files.
			ropts := isledb.ReaderOpenOptions{CacheDir: t.TempDir(), SSTCacheSize: 1 << 20}
			if !tc.wholeFile {
				ropts.AllowUnverifiedRangeRead = true
			}
			r, err := isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			for i := 0; i < len(kvs); i += 97 {
				v, ok, err := r.Get(ctx, kvs[i][0])
				if err != nil || !ok || !bytes.Equal(v, kvs[i][1]) {
					t.Fatalf("Get(%s) = %d bytes, %v, %v", kvs[i][0], len(v), ok, err)
				}
			}
			s := r.SSTCacheStats()
			if tc.wholeFile {
				// Nothing held once the reads are done.
				if s.OpenReaders != 0 || s.RangeOpens != 0 {
					t.Fatalf("stats %+v: want no SST held open and no range opens", s)
				}
				return
			}
			if s.DiskMisses != 0 || s.RangeOpens == 0 {
				t.Fatalf("stats %+v: want SSTs read by range, none downloaded whole", s)
			}
		})
	}
}
