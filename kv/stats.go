package kv

import (
	"fmt"
	"strings"

	"github.com/isledb/isledb/internal/compaction"
)

// CacheStats counts the work of the block cache.
type CacheStats struct {
	Hits   int64 // lookups served from the cache
	Misses int64 // lookups that read and decoded the block
	Size   int64 // bytes held
	// Capacity is Options.BlockCacheSize (0: no cache).
	Capacity int64
}

// HitRate returns the cache hit rate as a percentage (0 to 100; 0 before any lookup).
func (s CacheStats) HitRate() float64 {
	if n := s.Hits + s.Misses; n > 0 {
		return 100 * float64(s.Hits) / float64(n)
	}
	return 0
}

// LevelStats describes one level of the LSM tree: level 0 holds the flushed memtables
// (overlapping SSTs, newest first); each level from 1 on is one sorted run, newest data
// first (level 1 is the manifest's newest run).
type LevelStats struct {
	Level    int
	NumFiles int   // SSTs
	Size     int64 // bytes of those SSTs
	NumKeys  int64 // entries (versions and tombstones included)
}

// StoreStats is a snapshot of the store's state and counters.
type StoreStats struct {
	// MemtableSize is the memory the unflushed writes take (keys, values, overhead), in
	// the active memtable and those waiting for their flush; MemtableCount counts those
	// memtables (an empty active one excluded).
	MemtableSize  int64
	MemtableCount int64
	CacheStats    CacheStats
	Levels        []LevelStats
	// SSTCount and TotalSize sum the levels.
	SSTCount  int
	TotalSize int64
	// ReadOperations counts Gets (typed ones included), WriteOperations Puts,
	// DeleteOperations Deletes, ScanOperations scans, since Open.
	ReadOperations   int64
	WriteOperations  int64
	DeleteOperations int64
	ScanOperations   int64
	// WALSyncs counts the fsyncs of the write-ahead log since Open.
	WALSyncs uint64
}

// String formats the stats over a few lines.
func (s StoreStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "memtables: %d (%d B); ssts: %d (%d B); reads %d, writes %d, deletes %d, scans %d; wal syncs %d\n",
		s.MemtableCount, s.MemtableSize, s.SSTCount, s.TotalSize, s.ReadOperations, s.WriteOperations,
		s.DeleteOperations, s.ScanOperations, s.WALSyncs)
	fmt.Fprintf(&b, "block cache: %d hits, %d misses (%.1f%%), %d of %d B\n",
		s.CacheStats.Hits, s.CacheStats.Misses, s.CacheStats.HitRate(), s.CacheStats.Size, s.CacheStats.Capacity)
	for _, l := range s.Levels {
		fmt.Fprintf(&b, "L%d: %d ssts, %d B, %d entries\n", l.Level, l.NumFiles, l.Size, l.NumKeys)
	}
	return b.String()
}

// Stats returns a snapshot of the store's state. After Close it returns the counters and
// no levels.
func (s *Store) Stats() StoreStats {
	st := StoreStats{
		ReadOperations:   s.stats.reads.Load(),
		WriteOperations:  s.stats.writes.Load(),
		DeleteOperations: s.stats.deletes.Load(),
		ScanOperations:   s.stats.scans.Load(),
	}
	if err := s.enter(); err != nil {
		return st
	}
	defer s.leave()
	u := s.w.UnflushedStats()
	st.MemtableSize, st.MemtableCount = u.Bytes, int64(u.Memtables)
	st.WALSyncs = s.w.WALMetrics().Syncs
	cs := s.r.SSTCacheStats()
	st.CacheStats = CacheStats{Hits: cs.BlockHits, Misses: cs.BlockMisses, Size: cs.BlockBytes, Capacity: s.opts.BlockCacheSize}
	r, err := s.readerFor(u.FlushedSeq)
	if err != nil {
		return st
	}
	m := r.ManifestUnsafe()
	l0 := LevelStats{Level: 0, NumFiles: len(m.L0SSTs)}
	for _, sst := range m.L0SSTs {
		l0.Size += sst.Size
		l0.NumKeys += int64(sst.EntryCount)
	}
	st.Levels = append(st.Levels, l0)
	for i, run := range m.SortedRuns {
		l := LevelStats{Level: i + 1, NumFiles: len(run.SSTs), Size: compaction.RunSize(run)}
		for _, sst := range run.SSTs {
			l.NumKeys += int64(sst.EntryCount)
		}
		st.Levels = append(st.Levels, l)
	}
	for _, l := range st.Levels {
		st.SSTCount += l.NumFiles
		st.TotalSize += l.Size
	}
	return st
}
