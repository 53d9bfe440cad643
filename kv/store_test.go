package kv_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/isledb/isledb/kv"
)

// openTest opens a store in a new directory with small memtables and no automatic
// flushes or compaction checks beyond the one at Open (tests drive them).
func openTest(t *testing.T, edit func(*kv.Options)) (*kv.Store, kv.Options) {
	t.Helper()
	o := kv.DefaultOptions(t.TempDir())
	o.MemtableSize = 64 << 10
	o.FlushInterval = -1
	o.CompactionInterval = 1 << 40
	if edit != nil {
		edit(&o)
	}
	s, err := kv.Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, o
}

func TestTypedPutGet(t *testing.T) {
	s, _ := openTest(t, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutInt64([]byte("i"), -42))
	must(s.PutFloat64([]byte("f"), math.Pi))
	must(s.PutBool([]byte("b"), true))
	must(s.PutString([]byte("s"), "héllo"))
	must(s.PutBytes([]byte("y"), []byte{0, 1, 2}))
	check := func(stage string) {
		t.Helper()
		if v, err := s.GetInt64([]byte("i")); err != nil || v != -42 {
			t.Fatalf("%s: GetInt64 = %v, %v", stage, v, err)
		}
		if v, err := s.GetFloat64([]byte("f")); err != nil || v != math.Pi {
			t.Fatalf("%s: GetFloat64 = %v, %v", stage, v, err)
		}
		if v, err := s.GetBool([]byte("b")); err != nil || !v {
			t.Fatalf("%s: GetBool = %v, %v", stage, v, err)
		}
		if v, err := s.GetString([]byte("s")); err != nil || v != "héllo" {
			t.Fatalf("%s: GetString = %q, %v", stage, v, err)
		}
		if v, err := s.GetBytes([]byte("y")); err != nil || !bytes.Equal(v, []byte{0, 1, 2}) {
			t.Fatalf("%s: GetBytes = %x, %v", stage, v, err)
		}
		v, err := s.Get([]byte("s"))
		if err != nil || !v.Equal(kv.StringValue("héllo")) {
			t.Fatalf("%s: Get = %v, %v", stage, v, err)
		}
		_, err = s.GetInt64([]byte("s"))
		if !errors.Is(err, kv.ErrTypeMismatch) || !strings.Contains(err.Error(), "string") || !strings.Contains(err.Error(), "int64") {
			t.Fatalf("%s: GetInt64 of a string: %v, want ErrTypeMismatch naming both types", stage, err)
		}
		if _, err := s.GetString([]byte("missing")); !errors.Is(err, kv.ErrKeyNotFound) {
			t.Fatalf("%s: missing key: %v, want ErrKeyNotFound", stage, err)
		}
	}
	check("unflushed")
	must(s.Flush())
	check("flushed")
	must(s.Compact())
	check("compacted")
}

func TestPutRefusesBadInput(t *testing.T) {
	s, _ := openTest(t, nil)
	if err := s.Put([]byte("k"), kv.Value{}); !errors.Is(err, kv.ErrInvalidValue) {
		t.Fatalf("Put of a zero Value: %v, want ErrInvalidValue", err)
	}
	if err := s.Put([]byte("k"), kv.Value{Type: 99}); !errors.Is(err, kv.ErrInvalidValue) {
		t.Fatalf("Put of type 99: %v, want ErrInvalidValue", err)
	}
	if err := s.PutInt64(nil, 1); !errors.Is(err, kv.ErrEmptyKey) {
		t.Fatalf("Put of an empty key: %v, want ErrEmptyKey", err)
	}
	if _, err := s.Get(nil); !errors.Is(err, kv.ErrEmptyKey) {
		t.Fatalf("Get of an empty key: %v, want ErrEmptyKey", err)
	}
}

// TestReadYourWrites: a Get right after a Put sees it, whether the write is in the active
// memtable, a frozen one, or flushed meanwhile.
func TestReadYourWrites(t *testing.T) {
	s, _ := openTest(t, nil)
	val := strings.Repeat("v", 200)
	for i := range 3000 { // ~1 MB: many memtable rotations and background flushes
		k := []byte(fmt.Sprintf("key-%05d", i))
		if err := s.PutString(k, val+fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetString(k)
		if err != nil || got != val+fmt.Sprint(i) {
			t.Fatalf("Get right after Put %d: %q, %v", i, got, err)
		}
		if i%7 == 0 {
			if err := s.Delete(k); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(k); !errors.Is(err, kv.ErrKeyNotFound) {
				t.Fatalf("Get right after Delete %d: %v", i, err)
			}
		}
	}
	st := s.Stats()
	if st.SSTCount == 0 {
		t.Fatalf("no SST flushed by 1 MB of writes into 64 KiB memtables: %v", st)
	}
}

func TestDeleteAndTombstone(t *testing.T) {
	s, _ := openTest(t, nil)
	_ = s.PutInt64([]byte("a"), 1)
	_ = s.PutInt64([]byte("b"), 2)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]byte("b"), kv.TombstoneValue()); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"unflushed", "flushed"} {
		for _, k := range []string{"a", "b"} {
			if _, err := s.Get([]byte(k)); !errors.Is(err, kv.ErrKeyNotFound) {
				t.Fatalf("%s: Get(%s) after delete: %v", stage, k, err)
			}
		}
		_ = s.Flush()
	}
	if err := s.Delete([]byte("never")); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func scanAll(t *testing.T, scan func(fn func([]byte, kv.Value) bool) error) []string {
	t.Helper()
	var out []string
	if err := scan(func(k []byte, v kv.Value) bool {
		out = append(out, string(k)+"="+v.String())
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScanModel: random puts, deletes and flushes; after each round ScanPrefix and
// ScanRange agree with a map (newest wins, deletes hidden) whatever mix of flushed and
// unflushed data holds the keys.
func TestScanModel(t *testing.T) {
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	s, _ := openTest(t, nil)
	model := map[string]int64{}
	for round := range 12 {
		for range 300 {
			k := fmt.Sprintf("%c/%03d", "abc"[rng.IntN(3)], rng.IntN(200))
			if rng.IntN(4) == 0 {
				delete(model, k)
				if err := s.Delete([]byte(k)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			v := rng.Int64()
			model[k] = v
			if err := s.PutInt64([]byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		switch round % 3 {
		case 0:
			_ = s.Flush()
		case 1:
			_ = s.Compact()
		}
		for _, p := range []string{"a/", "b/0", "c/19", "", "zz"} {
			var want []string
			for k, v := range model {
				if strings.HasPrefix(k, p) {
					want = append(want, k+"="+kv.Int64Value(v).String())
				}
			}
			sort.Strings(want)
			got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return s.ScanPrefix([]byte(p), fn) })
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("seed %d round %d: ScanPrefix(%q):\n got %v\nwant %v", seed, round, p, got, want)
			}
		}
		lo, hi := "a/050", "b/100"
		var want []string
		for k, v := range model {
			if k >= lo && k < hi {
				want = append(want, k+"="+kv.Int64Value(v).String())
			}
		}
		sort.Strings(want)
		got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return s.ScanRange([]byte(lo), []byte(hi), fn) })
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("seed %d round %d: ScanRange:\n got %v\nwant %v", seed, round, got, want)
		}
		for k, v := range model {
			if got, err := s.GetInt64([]byte(k)); err != nil || got != v {
				t.Fatalf("seed %d round %d: Get(%s) = %d, %v; want %d", seed, round, k, got, err, v)
			}
		}
	}
}

func TestScanStopsEarlyAndMayWrite(t *testing.T) {
	s, _ := openTest(t, nil)
	for i := range 10 {
		_ = s.PutInt64([]byte(fmt.Sprintf("k%d", i)), int64(i))
	}
	_ = s.Flush()
	n := 0
	err := s.ScanPrefix([]byte("k"), func(k []byte, v kv.Value) bool {
		n++
		// The callback may use the store: no lock is held during it.
		if err := s.PutInt64(append([]byte("other/"), k...), v.Int64); err != nil {
			t.Error(err)
		}
		return n < 3
	})
	if err != nil || n != 3 {
		t.Fatalf("scan stopped after %d calls (%v), want 3", n, err)
	}
	if got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return s.ScanPrefix([]byte("other/"), fn) }); len(got) != 3 {
		t.Fatalf("writes made in the callback: %v", got)
	}
	// 0xFF prefixes have no successor key.
	_ = s.PutBool([]byte{0xFF, 0xFF, 1}, true)
	if got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return s.ScanPrefix([]byte{0xFF, 0xFF}, fn) }); len(got) != 1 {
		t.Fatalf("ScanPrefix(ff ff) = %v", got)
	}
	if got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return s.ScanRange([]byte("k5"), nil, fn) }); len(got) != 9 {
		t.Fatalf("ScanRange(k5, nil) = %v, want k5..k9, three other/ keys and the ff key", got)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	o := kv.DefaultOptions(dir)
	s, err := kv.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.PutString([]byte("flushed"), "1")
	_ = s.Flush()
	_ = s.PutString([]byte("logged"), "2")
	_ = s.Delete([]byte("flushed"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutInt64([]byte("x"), 1); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("Put after Close: %v, want ErrStoreClosed", err)
	}
	if _, err := s.Get([]byte("x")); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("Get after Close: %v, want ErrStoreClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s, err = kv.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.GetString([]byte("logged")); err != nil || v != "2" {
		t.Fatalf("after reopen: %q, %v", v, err)
	}
	if _, err := s.Get([]byte("flushed")); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatalf("deleted key after reopen: %v", err)
	}
}

func TestLockOneStorePerDirectory(t *testing.T) {
	s, o := openTest(t, nil)
	_ = s.PutInt64([]byte("k"), 7)
	if _, err := kv.Open(o); !errors.Is(err, kv.ErrLocked) {
		t.Fatalf("second Open of the directory: %v, want ErrLocked", err)
	}
	// The refused Open changed nothing.
	if v, err := s.GetInt64([]byte("k")); err != nil || v != 7 {
		t.Fatalf("after the refused Open: %d, %v", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := kv.Open(o)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer s2.Close()
	if v, err := s2.GetInt64([]byte("k")); err != nil || v != 7 {
		t.Fatalf("after reopen: %d, %v", v, err)
	}
}

func TestStats(t *testing.T) {
	s, _ := openTest(t, nil)
	for i := range 100 {
		_ = s.PutInt64([]byte(fmt.Sprintf("k%03d", i)), int64(i))
	}
	st := s.Stats()
	if st.MemtableCount != 1 || st.MemtableSize <= 0 || st.WriteOperations != 100 || st.SSTCount != 0 {
		t.Fatalf("before flush: %v", st)
	}
	_ = s.Flush()
	for i := range 100 {
		_, _ = s.GetInt64([]byte(fmt.Sprintf("k%03d", i)))
	}
	_ = s.Delete([]byte("k000"))
	_ = s.ScanPrefix([]byte("k"), func([]byte, kv.Value) bool { return true })
	st = s.Stats()
	if st.MemtableSize == 0 || st.SSTCount != 1 || st.TotalSize <= 0 || len(st.Levels) == 0 || st.Levels[0].NumFiles != 1 ||
		st.Levels[0].NumKeys != 100 || st.ReadOperations != 100 || st.DeleteOperations != 1 || st.ScanOperations != 1 {
		t.Fatalf("after flush and reads: %v", st)
	}
	if st.CacheStats.Hits+st.CacheStats.Misses == 0 || st.CacheStats.HitRate() <= 50 {
		t.Fatalf("100 reads of one small SST: cache %+v (hit rate %.1f%%), want mostly hits", st.CacheStats, st.CacheStats.HitRate())
	}
	if !strings.Contains(st.String(), "L0: 1 ssts") {
		t.Fatalf("String: %s", st)
	}
	if got := (kv.CacheStats{Hits: 3, Misses: 1}).HitRate(); got != 75 {
		t.Fatalf("HitRate = %v, want 75", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, f := range []func(string) kv.Options{kv.DefaultOptions, kv.HighPerformanceOptions, kv.LowMemoryOptions} {
		if err := f("d").Validate(); err != nil {
			t.Fatalf("preset: %v", err)
		}
	}
	o := kv.Options{MemtableSize: 1, BlockCacheSize: -1, BlockSize: 1, CompressionLevel: 30, BloomFPRate: 2,
		CompactionStyle: 9, L0CompactionTrigger: -1, MaxLevels: 1, LevelSizeMultiplier: 1, WALSyncMode: 7, CompactionInterval: -1}
	err := o.Validate()
	var oe *kv.OptionsError
	if !errors.Is(err, kv.ErrInvalidOptions) || !errors.As(err, &oe) {
		t.Fatalf("Validate: %v, want an *OptionsError", err)
	}
	for _, field := range []string{"Dir", "MemtableSize", "BlockCacheSize", "BlockSize", "CompressionLevel", "BloomFPRate",
		"CompactionStyle", "L0CompactionTrigger", "MaxLevels", "LevelSizeMultiplier", "WALSyncMode", "FlushInterval", "CompactionInterval"} {
		found := false
		for _, v := range oe.Violations {
			found = found || strings.HasPrefix(v, field)
		}
		if !found {
			t.Errorf("no violation reported for %s: %v", field, oe.Violations)
		}
	}
	if _, err := kv.Open(kv.Options{Dir: t.TempDir(), BlockSize: 3}); !errors.Is(err, kv.ErrInvalidOptions) {
		t.Fatalf("Open with a bad BlockSize: %v", err)
	}
	// Zero fields that say so take their defaults at Open.
	s, err := kv.Open(kv.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open with only Dir: %v", err)
	}
	s.Close()
}

func TestOpenRefusesForeignFormat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "KV"), []byte("something else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Open(kv.DefaultOptions(dir)); !errors.Is(err, kv.ErrCorruptedData) {
		t.Fatalf("Open of a directory with a foreign marker: %v", err)
	}
}

// TestCloseDuringScanCallback: Close called while a scan's callback runs waits for the
// scan; the callback's own calls then fail with ErrStoreClosed instead of deadlocking.
func TestCloseDuringScanCallback(t *testing.T) {
	s, _ := openTest(t, nil)
	for i := range 3 {
		_ = s.PutInt64([]byte(fmt.Sprintf("k%d", i)), int64(i))
	}
	closed := make(chan error, 1)
	err := s.ScanPrefix([]byte("k"), func(k []byte, v kv.Value) bool {
		go func() { closed <- s.Close() }()
		for {
			err := s.PutInt64([]byte("more"), 1)
			if errors.Is(err, kv.ErrStoreClosed) {
				return false
			}
			if err != nil {
				t.Errorf("Put in the callback: %v", err)
				return false
			}
		}
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}
