package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

const islePrefix = "bench"

// isleLoad writes keys[:n] with opts into a new file bucket under dir and flushes. It
// returns the timings and leaves the bucket in dir.
func isleLoad(tb testing.TB, dir string, opts isledb.WriterOptions, n int) putResult {
	tb.Helper()
	d := getData()
	store, err := blobstore.NewFile(ctx, dir, islePrefix)
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	settle()
	res := putResult{n: n}
	start := time.Now()
	for i := range n {
		for {
			err = w.Put(d.keys[i], d.values[i])
			if !errors.Is(err, isledb.ErrBackpressure) {
				break
			}
			res.stalls++
			time.Sleep(100 * time.Microsecond) // the flush queue is full: let it drain
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	res.put = time.Since(start)
	start = time.Now()
	if err := w.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	res.flush = time.Since(start)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	res.layout = isleLayout(tb, store)
	return res
}

// isleLayout describes the SSTs in the bucket.
func isleLayout(tb testing.TB, store *blobstore.Store) string {
	ssts, err := store.ListSSTFiles(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var total int64
	for _, s := range ssts {
		total += s.Size
	}
	return fmt.Sprintf("%d L0 SSTs, %.1f MiB", len(ssts), float64(total)/(1<<20))
}

// islePut is the Put benchmark's load: default writer options, the whole data set.
func islePut(tb testing.TB) putResult {
	dir := newDir(tb, "isledb-put")
	defer os.RemoveAll(dir)
	return isleLoad(tb, dir, isledb.DefaultWriterOptions(), numKeys)
}

// isleFlush times the Flush of one full memtable: flushKeys Puts (no interval flush),
// then Flush.
func isleFlush(tb testing.TB) flushResult {
	dir := newDir(tb, "isledb-flush")
	defer os.RemoveAll(dir)
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1
	r := isleLoad(tb, dir, opts, flushKeys)
	if r.stalls != 0 || r.layout[:2] != "1 " {
		tb.Fatalf("the %d keys did not fit in one memtable: %s", flushKeys, r.layout)
	}
	return flushResult{n: flushKeys, flush: r.flush, detail: r.layout}
}

// isleReader adapts an isledb.Reader.
type isleReader struct {
	r *isledb.Reader
}

func (h *isleReader) get(key []byte) (bool, error) {
	_, ok, err := h.r.Get(ctx, key)
	return ok, err
}

func (h *isleReader) scan(start []byte, n int) (int, error) {
	it, err := h.r.NewIterator(ctx, isledb.IteratorOptions{MinKey: start})
	if err != nil {
		return 0, err
	}
	c, sum := 0, 0
	for (n <= 0 || c < n) && it.Next() {
		sum += len(it.Key()) + len(it.Value())
		c++
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if sum < c*(keySize+valueSize) {
		return 0, fmt.Errorf("short pairs")
	}
	return c, nil
}

// isleFixture is the read data set: the whole data set in three full-memtable SSTs, and
// a reader with a 256 MiB block cache whose every block is cached.
type isleFixture struct {
	dir    string // the bucket
	layout string
	store  *blobstore.Store
	reader *isleReader
}

var (
	fixMu   sync.Mutex
	isleFix *isleFixture
)

func getIsleFixture(tb testing.TB) *isleFixture {
	fixMu.Lock()
	defer fixMu.Unlock()
	if isleFix != nil {
		return isleFix
	}
	dir := newDir(tb, "isledb-read")
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1 // full memtables only: a deterministic layout
	res := isleLoad(tb, dir, opts, numKeys)
	store, err := blobstore.NewFile(ctx, dir, islePrefix)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{
		CacheDir:       filepath.Join(dir, "cache"),
		BlockCacheSize: blockCacheSize,
	})
	if err != nil {
		tb.Fatal(err)
	}
	f := &isleFixture{dir: dir, layout: res.layout, store: store, reader: &isleReader{r}}
	if err := warm(f.reader); err != nil {
		tb.Fatal(err)
	}
	isleFix = f
	return f
}

func (f *isleFixture) close() {
	_ = f.reader.r.Close()
	_ = f.store.Close()
}

// coldResult counts the requests of a fresh reader (empty cache dir).
type coldResult struct {
	mode       string
	ssts       int
	open       blobstore.Stats // OpenReader (manifest replay)
	firstTouch blobstore.Stats // one absent-key Get: opens every SST
	gets       blobstore.Stats // numColdGets random present keys after that
	absent     blobstore.Stats // numColdGets absent keys after that
	getTime    time.Duration   // mean per present-key get
	cache      isledb.SSTCacheStats
}

func perGet(n int64) float64 { return float64(n) / numColdGets }

// isleCold opens a fresh reader over the read fixture's bucket with rangeMin as
// RangeReadMinSSTSize (0: the default) and counts the requests of its gets.
func isleCold(tb testing.TB, mode string, rangeMin int64) coldResult {
	tb.Helper()
	fix := getIsleFixture(tb)
	d := getData()
	store, err := blobstore.NewFile(ctx, fix.dir, islePrefix) // fresh counters
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	cacheDir := newDir(tb, "isledb-cold-cache")
	defer os.RemoveAll(cacheDir)
	res := coldResult{mode: mode}
	s0 := store.Stats()
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{
		CacheDir: cacheDir, BlockCacheSize: blockCacheSize, RangeReadMinSSTSize: rangeMin,
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	s1 := store.Stats()
	res.open = s1.Sub(s0)
	res.ssts = r.ManifestUnsafe().L0SSTCount()
	if _, ok, err := r.Get(ctx, d.absent[len(d.absent)-1]); err != nil || ok {
		tb.Fatalf("first get: found %v, err %v", ok, err)
	}
	s2 := store.Stats()
	res.firstTouch = s2.Sub(s1)
	start := time.Now()
	for _, k := range d.coldKeys {
		v, ok, err := r.Get(ctx, k)
		if err != nil || !ok || len(v) != valueSize {
			tb.Fatalf("cold get: found %v, err %v", ok, err)
		}
	}
	res.getTime = time.Since(start) / numColdGets
	s3 := store.Stats()
	res.gets = s3.Sub(s2)
	for _, k := range d.absent[:numColdGets] {
		if _, ok, err := r.Get(ctx, k); err != nil || ok {
			tb.Fatalf("cold absent get: found %v, err %v", ok, err)
		}
	}
	res.absent = store.Stats().Sub(s3)
	res.cache = r.SSTCacheStats()
	return res
}

func (c coldResult) String() string {
	return fmt.Sprintf("%s: %d SSTs; open reader: %d req; first get (opens every SST): %d GET + %d ranged GET (%.1f KiB); "+
		"then per present-key get: %.3f GET, %.3f ranged GET, %.0f B, %.1f µs; per absent-key get: %.3f requests; cache: %v",
		c.mode, c.ssts, c.open.Requests(), c.firstTouch.Gets, c.firstTouch.RangedGets, float64(c.firstTouch.BytesRead)/1024,
		perGet(c.gets.Gets), perGet(c.gets.RangedGets), perGet(c.gets.BytesRead), float64(c.getTime.Nanoseconds())/1e3,
		perGet(c.absent.Requests()), c.cache)
}
