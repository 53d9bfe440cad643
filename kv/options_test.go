package kv_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb/kv"
)

// Each test here shows the effect of one option through the public API.

// fillFlush writes n keys (values of about vlen bytes, compressible) and flushes.
func fillFlush(t *testing.T, s *kv.Store, gen, n, vlen int) {
	t.Helper()
	for i := range n {
		v := fmt.Sprintf("gen %d value %d ", gen, i)
		if err := s.PutString([]byte(fmt.Sprintf("key-%06d", i)), strings.Repeat(v, 1+vlen/len(v))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or 20 s pass (a deadline, not a timing assumption).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestOptionMemtableSize(t *testing.T) {
	ssts := func(size int64) int {
		s, _ := openTest(t, func(o *kv.Options) { o.MemtableSize = size; o.L0CompactionTrigger = 1000 })
		fillFlush(t, s, 0, 3000, 150) // ~700 KB of writes
		return s.Stats().SSTCount
	}
	small, large := ssts(64<<10), ssts(4<<20)
	if large != 1 || small < 5 {
		t.Fatalf("SSTs after ~700 KB of writes: %d with 64 KiB memtables, %d with 4 MiB; want many and 1", small, large)
	}
}

func TestOptionBlockCacheSize(t *testing.T) {
	for _, size := range []int64{0, 1 << 20} {
		s, _ := openTest(t, func(o *kv.Options) { o.BlockCacheSize = size })
		fillFlush(t, s, 0, 500, 20)
		for range 3 {
			for i := range 500 {
				if _, err := s.GetString([]byte(fmt.Sprintf("key-%06d", i))); err != nil {
					t.Fatal(err)
				}
			}
		}
		cs := s.Stats().CacheStats
		if size == 0 && (cs.Hits != 0 || cs.Misses != 0 || cs.Size != 0) {
			t.Fatalf("no cache: %+v", cs)
		}
		if size > 0 && (cs.HitRate() < 90 || cs.Size == 0 || cs.Size > size) {
			t.Fatalf("1 MiB cache, 1500 reads of a small SST: %+v (%.1f%%)", cs, cs.HitRate())
		}
	}
}

// sizeWith returns the total SST size of the same data under edit.
func sizeWith(t *testing.T, edit func(*kv.Options)) int64 {
	s, _ := openTest(t, func(o *kv.Options) {
		o.MemtableSize = 4 << 20
		o.CompressionLevel = -1
		edit(o)
	})
	fillFlush(t, s, 0, 2000, 100)
	st := s.Stats()
	if st.SSTCount != 1 {
		t.Fatalf("%d SSTs, want 1", st.SSTCount)
	}
	return st.TotalSize
}

func TestOptionBlockSize(t *testing.T) {
	small := sizeWith(t, func(o *kv.Options) { o.BlockSize = 256 })
	large := sizeWith(t, func(o *kv.Options) { o.BlockSize = 64 << 10 })
	// Smaller blocks: more blocks, so more index entries, block trailers and restarts.
	if small <= large {
		t.Fatalf("SST size with 256 B blocks %d, with 64 KiB blocks %d: want the first larger", small, large)
	}
}

func TestOptionCompressionLevel(t *testing.T) {
	none := sizeWith(t, func(o *kv.Options) { o.CompressionLevel = -1 })
	snappy := sizeWith(t, func(o *kv.Options) { o.CompressionLevel = 1 })
	zstd := sizeWith(t, func(o *kv.Options) { o.CompressionLevel = 3 })
	if !(snappy < none && zstd < snappy) {
		t.Fatalf("SST sizes: none %d, level 1 (snappy) %d, level 3 (zstd) %d: want decreasing", none, snappy, zstd)
	}
}

func TestOptionBloomFilter(t *testing.T) {
	loose := sizeWith(t, func(o *kv.Options) { o.BloomFPRate = 0.1 })
	tight := sizeWith(t, func(o *kv.Options) { o.BloomFPRate = 0.0001 })
	none := sizeWith(t, func(o *kv.Options) { o.DisableBloomFilter = true })
	// 2000 keys: 0.1 is 4 bits per key (1 KB), 0.0001 is 20 (5 KB).
	if !(none < loose && tight-loose > 3000) {
		t.Fatalf("SST sizes: no filter %d, 10%% %d, 0.01%% %d", none, loose, tight)
	}
	// Without a filter, reads of missing keys still answer right.
	s, _ := openTest(t, func(o *kv.Options) { o.DisableBloomFilter = true })
	fillFlush(t, s, 0, 10, 10)
	if _, err := s.Get([]byte("absent")); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatal(err)
	}
}

func TestOptionL0CompactionTrigger(t *testing.T) {
	s, _ := openTest(t, func(o *kv.Options) { o.L0CompactionTrigger = 3 })
	for gen := range 3 {
		fillFlush(t, s, gen, 100, 10)
		if err := s.RunCompactionCycle(); err != nil {
			t.Fatal(err)
		}
		l0 := s.Stats().Levels[0].NumFiles
		if want := []int{1, 2, 0}[gen]; l0 != want {
			t.Fatalf("after flush %d and a cycle: %d L0 SSTs, want %d", gen+1, l0, want)
		}
	}
}

// runCount flushes gens times (trigger 1, a cycle after each) and returns the runs left.
func runCount(t *testing.T, gens int, edit func(*kv.Options)) int {
	s, _ := openTest(t, func(o *kv.Options) {
		o.L0CompactionTrigger = 1
		o.CompressionLevel = -1
		edit(o)
	})
	for gen := range gens {
		for i := range 200 { // new keys each time: the data grows
			if err := s.PutString([]byte(fmt.Sprintf("g%03d-%04d", gen, i)), strings.Repeat(fmt.Sprint(gen*i), 60)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := s.RunCompactionCycle(); err != nil {
			t.Fatal(err)
		}
	}
	for gen := range gens { // the data survives every style
		if v, err := s.GetString([]byte(fmt.Sprintf("g%03d-%04d", gen, 7))); err != nil || v != strings.Repeat(fmt.Sprint(gen*7), 60) {
			t.Fatalf("gen %d: %q, %v", gen, v, err)
		}
	}
	st := s.Stats()
	if st.Levels[0].NumFiles != 0 {
		t.Fatalf("L0 not compacted: %v", st)
	}
	return len(st.Levels) - 1
}

func TestOptionCompactionStyle(t *testing.T) {
	// Leveled with room in level 1: every L0 merges into the one level 1 run.
	leveled := runCount(t, 3, func(o *kv.Options) { o.CompactionStyle = kv.CompactionStyleLeveled })
	// Size-tiered: each L0 compaction starts a run; 3 similar runs stay below the 4 a
	// merge takes.
	tiered := runCount(t, 3, func(o *kv.Options) { o.CompactionStyle = kv.CompactionStyleSizeTiered })
	if leveled != 1 || tiered != 3 {
		t.Fatalf("runs after 3 L0 compactions: leveled %d, size-tiered %d; want 1 and 3", leveled, tiered)
	}
}

func TestOptionLevelSizeMultiplierAndMaxLevels(t *testing.T) {
	// Level 1 holds trigger x MemtableSize x multiplier bytes: 64 KiB x 2 fills after a few
	// flushes, 64 KiB x 100 never here (~1 MB in all).
	wide := runCount(t, 20, func(o *kv.Options) { o.LevelSizeMultiplier = 100 })
	narrow := runCount(t, 20, func(o *kv.Options) { o.LevelSizeMultiplier = 2; o.MaxLevels = 7 })
	// MaxLevels 2: level 1 is the last level, unbounded: one run whatever its size.
	capped := runCount(t, 20, func(o *kv.Options) { o.LevelSizeMultiplier = 2; o.MaxLevels = 2 })
	if wide != 1 || narrow < 3 || capped != 1 {
		t.Fatalf("runs after 20 flushes: multiplier 100: %d (want 1); multiplier 2: %d (want 3 or more); multiplier 2 with MaxLevels 2: %d (want 1)",
			wide, narrow, capped)
	}
}

func TestOptionWALSyncMode(t *testing.T) {
	syncs := func(mode kv.WALSyncMode, concurrent int) (uint64, int) {
		s, _ := openTest(t, func(o *kv.Options) { o.WALSyncMode = mode })
		var wg sync.WaitGroup
		for g := range concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					if err := s.PutInt64([]byte(fmt.Sprintf("g%d-%d", g, i)), int64(i)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		return s.Stats().WALSyncs, 50 * concurrent
	}
	if n, _ := syncs(kv.WALSyncNone, 4); n != 0 {
		t.Fatalf("WALSyncNone: %d fsyncs for 200 writes, want 0", n)
	}
	if n, w := syncs(kv.WALSyncPerWrite, 4); n < uint64(w) {
		t.Fatalf("WALSyncPerWrite: %d fsyncs for %d concurrent writes, want one each", n, w)
	}
	if n, w := syncs(kv.WALSyncPerBatch, 4); n == 0 || n > uint64(w) {
		t.Fatalf("WALSyncPerBatch: %d fsyncs for %d concurrent writes, want 1 to %d (shared)", n, w, w)
	}
}

func TestOptionFlushInterval(t *testing.T) {
	s, _ := openTest(t, func(o *kv.Options) { o.FlushInterval = 5 * time.Millisecond })
	if err := s.PutInt64([]byte("k"), 1); err != nil {
		t.Fatal(err)
	}
	// No Flush call: the interval flushes the memtable by itself.
	waitFor(t, "the FlushInterval flush", func() bool { st := s.Stats(); return st.SSTCount == 1 && st.MemtableCount == 0 })
}

func TestOptionCompactionInterval(t *testing.T) {
	s, _ := openTest(t, func(o *kv.Options) { o.CompactionInterval = 5 * time.Millisecond; o.L0CompactionTrigger = 1 })
	fillFlush(t, s, 0, 100, 10)
	// No compaction call: the background loop's next check compacts L0.
	waitFor(t, "the background compaction", func() bool {
		st := s.Stats()
		return st.Levels[0].NumFiles == 0 && len(st.Levels) == 2
	})
}

// TestOptionVerifyChecksums replaces an SST file with another, valid SST: every block
// checksum passes, only the whole-file SHA-256 the manifest recorded tells them apart.
// With VerifyChecksums compaction refuses it; without, it merges the wrong data.
func TestOptionVerifyChecksums(t *testing.T) {
	for _, verify := range []bool{true, false} {
		s, o := openTest(t, func(o *kv.Options) { o.VerifyChecksums = verify; o.L0CompactionTrigger = 100 })
		// Same lengths, so the two SSTs are the same size.
		_ = s.PutString([]byte("a"), "value-1")
		_ = s.Flush()
		_ = s.PutString([]byte("b"), "value-2")
		_ = s.Flush()
		files, _ := filepath.Glob(filepath.Join(o.Dir, "data", "kv", "sst", "*.sst"))
		sort.Strings(files) // ids sort by creation
		if len(files) != 2 {
			t.Fatalf("%d SST files", len(files))
		}
		other, err := os.ReadFile(files[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(files[0], other, 0o644); err != nil {
			t.Fatal(err)
		}
		err = s.Compact()
		if verify {
			if !errors.Is(err, kv.ErrChecksumMismatch) || !errors.Is(err, kv.ErrCorruptedData) {
				t.Fatalf("VerifyChecksums: Compact over a swapped SST: %v, want ErrChecksumMismatch", err)
			}
			continue
		}
		if err != nil {
			t.Logf("without VerifyChecksums: Compact: %v", err)
		}
		if _, err := s.GetString([]byte("a")); err == nil {
			t.Fatal("without VerifyChecksums the swapped SST should have lost key a")
		}
	}
}
