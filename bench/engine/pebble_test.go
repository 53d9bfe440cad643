package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// quietLogger drops Pebble's informational logging.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// pebbleOptions are Pebble's defaults with IsleDB's memtable size and bloom filter.
func pebbleOptions(wal bool, cache *pebble.Cache) *pebble.Options {
	o := &pebble.Options{
		MemTableSize: memtableSize,
		DisableWAL:   !wal,
		Logger:       quietLogger{},
		Cache:        cache,
	}
	if os.Getenv("ISLEDB_BENCH_PEBBLE_FORMAT") == "newest" {
		o.FormatMajorVersion = pebble.FormatNewest
	}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBits)
	}
	return o
}

func openPebble(tb testing.TB, dir string, wal bool, cache *pebble.Cache) *pebble.DB {
	tb.Helper()
	db, err := pebble.Open(dir, pebbleOptions(wal, cache))
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// pebbleLayout describes the tables of every non-empty level.
func pebbleLayout(db *pebble.DB) string {
	m := db.Metrics()
	var parts []string
	var total int64
	for i := range m.Levels {
		if n := m.Levels[i].TablesCount; n > 0 {
			parts = append(parts, fmt.Sprintf("L%d: %d", i, n))
			total += m.Levels[i].TablesSize
		}
	}
	return fmt.Sprintf("%s tables, %.1f MiB", strings.Join(parts, ", "), float64(total)/(1<<20))
}

// pebbleLoad writes keys[:n] with Set(NoSync) into db and then flushes it.
func pebbleLoad(tb testing.TB, db *pebble.DB, n int) putResult {
	tb.Helper()
	d := getData()
	settle()
	res := putResult{n: n}
	start := time.Now()
	for i := range n {
		if err := db.Set(d.keys[i], d.values[i], pebble.NoSync); err != nil {
			tb.Fatal(err)
		}
	}
	res.put = time.Since(start)
	start = time.Now()
	if err := db.Flush(); err != nil {
		tb.Fatal(err)
	}
	res.flush = time.Since(start)
	res.layout = pebbleLayout(db)
	return res
}

// pebblePut is the Put benchmark's load: the whole data set into a new DB.
func pebblePut(tb testing.TB, wal bool) putResult {
	dir := newDir(tb, "pebble-put")
	defer os.RemoveAll(dir)
	db := openPebble(tb, dir, wal, nil)
	defer db.Close()
	return pebbleLoad(tb, db, numKeys)
}

// pebbleFlush times the Flush of one memtable holding the same flushKeys entries as
// isleFlush. Pebble grows its memtables from 256 KiB by doubling, so it first fills the
// small ones with filler keys (above every benchmark key) until memtables are 64 MiB.
func pebbleFlush(tb testing.TB) flushResult {
	dir := newDir(tb, "pebble-flush")
	defer os.RemoveAll(dir)
	db := openPebble(tb, dir, true, nil)
	defer db.Close()
	filler := make([]byte, 64<<10)
	for i := range filler {
		filler[i] = byte(i * 7)
	}
	fk := bytes.Repeat([]byte{0xff}, keySize+4)
	for i := 0; db.Metrics().Flush.Count < 8; i++ { // 256K, 512K, ..., 32M
		fk[keySize], fk[keySize+1], fk[keySize+2] = byte(i>>16), byte(i>>8), byte(i)
		if err := db.Set(fk, filler, pebble.NoSync); err != nil {
			tb.Fatal(err)
		}
		if i > 100_000 {
			tb.Fatal("pebble never flushed its small memtables")
		}
	}
	if err := db.Flush(); err != nil { // the filler left in the first 64 MiB memtable
		tb.Fatal(err)
	}
	before := db.Metrics().Flush.Count
	res := pebbleLoad(tb, db, flushKeys)
	after := db.Metrics().Flush.Count
	if after != before+1 {
		tb.Fatalf("pebble flushed %d memtables for the %d keys, want 1", after-before, flushKeys)
	}
	return flushResult{n: flushKeys, flush: res.flush, detail: res.layout}
}

// pebbleReader adapts a pebble.DB.
type pebbleReader struct {
	db *pebble.DB
}

func (h *pebbleReader) get(key []byte) (bool, error) {
	_, closer, err := h.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, closer.Close()
}

func (h *pebbleReader) scan(start []byte, n int) (int, error) {
	it, err := h.db.NewIter(nil)
	if err != nil {
		return 0, err
	}
	var ok bool
	if start == nil {
		ok = it.First()
	} else {
		ok = it.SeekGE(start)
	}
	c, sum := 0, 0
	for ; ok && (n <= 0 || c < n); ok = it.Next() {
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

// pebbleFixture is the read data set: the whole data set, flushed and compacted, with a
// 256 MiB block cache whose every block is cached.
type pebbleFixture struct {
	layout string
	cache  *pebble.Cache
	reader *pebbleReader
}

var pebbleFix *pebbleFixture

func getPebbleFixture(tb testing.TB) *pebbleFixture {
	fixMu.Lock()
	defer fixMu.Unlock()
	if pebbleFix != nil {
		return pebbleFix
	}
	dir := newDir(tb, "pebble-read")
	db := openPebble(tb, dir, true, nil)
	pebbleLoad(tb, db, numKeys)
	if err := db.Compact(ctx, []byte{0}, bytes.Repeat([]byte{0xff}, keySize+1), true); err != nil {
		tb.Fatal(err)
	}
	// Let background compactions finish, then reopen with them off: a compaction during
	// the timed reads would steal CPU and replace tables whose blocks are cached.
	prev := ""
	for stable, deadline := 0, time.Now().Add(2*time.Minute); stable < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		cur := pebbleLayout(db)
		if db.Metrics().Compact.NumInProgress == 0 && cur == prev {
			stable++
		} else {
			stable = 0
		}
		prev = cur
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	cache := pebble.NewCache(blockCacheSize)
	o := pebbleOptions(true, cache)
	o.DisableAutomaticCompactions = true
	db, err := pebble.Open(dir, o)
	if err != nil {
		tb.Fatal(err)
	}
	f := &pebbleFixture{layout: pebbleLayout(db), cache: cache, reader: &pebbleReader{db}}
	if err := warm(f.reader); err != nil {
		tb.Fatal(err)
	}
	pebbleFix = f
	return f
}

func (f *pebbleFixture) close() {
	_ = f.reader.db.Close()
	f.cache.Unref()
}

// closeFixtures closes whatever fixtures were made (TestMain removes their files).
func closeFixtures() {
	fixMu.Lock()
	defer fixMu.Unlock()
	if isleFix != nil {
		isleFix.close()
		isleFix = nil
	}
	if pebbleFix != nil {
		pebbleFix.close()
		pebbleFix = nil
	}
}
