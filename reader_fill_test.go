package isledb_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// fillTestRangeMin is the RangeReadMinSSTSize of the fill tests: their SSTs (writeSSTs,
// 192 KiB and up) are read by range.
const fillTestRangeMin = 64 << 10

// getAll Gets every key of kvs and checks its value.
func getAll(t *testing.T, r *isledb.Reader, kvs [][2][]byte) {
	t.Helper()
	for _, kv := range kvs {
		v, ok, err := r.Get(context.Background(), kv[0])
		if err != nil || !ok || !bytes.Equal(v, kv[1]) {
			t.Fatalf("Get(%s) = %d bytes, %v, %v", kv[0], len(v), ok, err)
		}
	}
}

// TestReaderWarmRangeReadSSTsSendNoRequests: SSTs read by range are downloaded whole into
// the SST disk cache in the background once used, so that after a warm-up pass a reader
// (here without a block cache, so every block comes from the SST's source) sends no
// request at all for its Gets. With DisableSSTBackgroundFill every Get of a block not in
// the block cache is a ranged GET, as every Get was before the fills existed.
func TestReaderWarmRangeReadSSTsSendNoRequests(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		const nSST = 4
		store := b.Open(t)
		kvs := writeSSTs(t, store, nSST, 192<<10)
		for _, disabled := range []bool{false, true} {
			t.Run(fmt.Sprintf("disabled=%v", disabled), func(t *testing.T) {
				ropts := isledb.DefaultReaderOpenOptions()
				ropts.CacheDir = t.TempDir()
				ropts.BlockCacheSize = 0
				ropts.RangeReadMinSSTSize = fillTestRangeMin
				ropts.DisableSSTBackgroundFill = disabled
				r, err := isledb.OpenReader(context.Background(), store, ropts)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = r.Close() }()
				getAll(t, r, kvs) // warm-up
				r.WaitSSTFillsForTest()
				before := store.Stats()
				getAll(t, r, kvs)
				d := store.Stats().Sub(before)
				s := r.SSTCacheStats()
				if disabled {
					if d.RangedGets == 0 || s.BackgroundFills != 0 {
						t.Fatalf("without fills: %d ranged GETs for %d Gets, %d fills; want ranged GETs and no fill", d.RangedGets, len(kvs), s.BackgroundFills)
					}
					return
				}
				if d.Requests() != 0 {
					t.Fatalf("warm reader: %d Gets sent %v; want no request (cache stats %v)", len(kvs), d, s)
				}
				if s.RangeOpens != nSST || s.BackgroundFills != nSST || s.OpenFiles != nSST {
					t.Fatalf("cache stats %v: want %d range opens, then %d fills, %d SSTs open on files", s, nSST, nSST, nSST)
				}
			})
		}
	})
}

// TestReaderFillsKeepDiskBudget: with SSTs read by range and filled into an SST cache far
// smaller than the data, the disk really held for SSTs (cached files, downloads in
// progress, evicted files still open) stays within SSTCacheSize, and fills still happen.
func TestReaderFillsKeepDiskBudget(t *testing.T) {
	ctx := context.Background()
	store, kvs := sstBudgetDB(t, 16, 256<<10)
	cache, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ropts := isledb.ReaderOpenOptions{CacheDir: cache, SSTCacheSize: 1 << 20, RangeReadMinSSTSize: fillTestRangeMin, AllowUnverifiedRangeRead: true}
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	check := func(when string) {
		t.Helper()
		r.WaitSSTFillsForTest()
		used, open := realDiskUse(t, cache)
		if used > ropts.SSTCacheSize {
			t.Fatalf("%s: %d bytes really held for SSTs (%d unlinked files still open), limit %d; stats %v",
				when, used, open, ropts.SSTCacheSize, r.SSTCacheStats())
		}
	}
	for round := range 3 {
		for i, kv := range kvs {
			v, ok, err := r.Get(ctx, kv[0])
			if err != nil || !ok || !bytes.Equal(v, kv[1]) {
				t.Fatalf("round %d: Get(%s) = %d bytes, %v, %v", round, kv[0], len(v), ok, err)
			}
			if i%300 == 299 {
				check(fmt.Sprintf("round %d, key %d", round, i))
			}
		}
		check(fmt.Sprintf("after round %d", round))
	}
	if s := r.SSTCacheStats(); s.BackgroundFills == 0 || s.DiskEvictions == 0 {
		t.Fatalf("stats %v: want fills and evictions (the test does not exercise the budget)", s)
	}
}

// TestReaderMaxOpenSSTFiles: the reader keeps at most MaxOpenSSTFiles unused cached SSTs
// open; the others are opened again from the disk cache on use, without a request.
func TestReaderMaxOpenSSTFiles(t *testing.T) {
	ctx := context.Background()
	store, kvs := sstBudgetDB(t, 6, 64<<10)
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir(), MaxOpenSSTFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	getAll(t, r, kvs)
	before := store.Stats()
	getAll(t, r, kvs)
	if d := store.Stats().Sub(before); d.Requests() != 0 {
		t.Fatalf("second pass sent %v; want every SST from the disk cache", d)
	}
	if s := r.SSTCacheStats(); s.OpenFiles > 2 || s.DiskHits == 0 {
		t.Fatalf("stats %v: want at most 2 SSTs open on files, reopened from the disk cache", s)
	}
}

// TestValidateFilledSST: an SST filled into the disk cache from range reads is, like one
// downloaded whole, re-verified when a new reader opens it (unless DisableSSTChecksum):
// a corrupted copy is detected and fetched again.
func TestValidateFilledSST(t *testing.T) {
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableSSTChecksum=%v", disable), func(t *testing.T) {
			ctx := context.Background()
			store := blobstore.NewMemory("db")
			kvs := writeSSTs(t, store, 1, 192<<10)
			cache := t.TempDir()
			ropts := isledb.ReaderOpenOptions{CacheDir: cache, RangeReadMinSSTSize: fillTestRangeMin, AllowUnverifiedRangeRead: true, DisableSSTChecksum: disable}
			r, err := isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			getAll(t, r, kvs[:1])
			r.WaitSSTFillsForTest()
			if s := r.SSTCacheStats(); s.BackgroundFills != 1 {
				t.Fatalf("stats %v: want the SST filled", s)
			}
			_ = r.Close()
			files, _ := filepath.Glob(filepath.Join(cache, "sst", "*"))
			if len(files) != 1 {
				t.Fatalf("%d cached SSTs, want 1", len(files))
			}
			data, _ := os.ReadFile(files[0])
			data[len(data)/2] ^= 1
			_ = os.WriteFile(files[0], data, 0o644)
			r, err = isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			before := store.Stats()
			_, _, _ = r.Get(ctx, kvs[0][0]) // the damaged copy, if trusted, may answer anything
			d := store.Stats().Sub(before)
			if !disable && d.RangedGets == 0 {
				t.Fatalf("the corrupt cached SST was used (requests: %v)", d)
			}
			if disable && d.Requests() != 0 {
				t.Fatalf("DisableSSTChecksum: the cached SST was checked and fetched again (requests: %v)", d)
			}
			if !disable {
				r.WaitSSTFillsForTest()
				getAll(t, r, kvs)
			}
		})
	}
}
