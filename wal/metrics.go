package wal

import (
	"fmt"
	"sync/atomic"
)

// Metrics is a snapshot of a WAL's counters since Open.
type Metrics struct {
	Streams          int    // streams open
	Appends          uint64 // commit units written: appends, batches, transactions
	EntriesWritten   uint64 // entries written
	BytesWritten     uint64 // bytes of records (headers included) written to segment files
	Syncs            uint64 // fsyncs of segment data
	Rotations        uint64 // segments sealed
	OpenSegmentFiles int    // segment files open for reading (the LRU plus pinned ones)
	BlockCacheHits   uint64 // block cache lookups that hit
	BlockCacheMisses uint64 // block cache lookups that read the file
}

// String formats m on one line.
func (m Metrics) String() string {
	perSync := 0.0
	if m.Syncs > 0 {
		perSync = float64(m.Appends) / float64(m.Syncs)
	}
	return fmt.Sprintf("streams=%d appends=%d entries=%d bytes=%d syncs=%d (%.1f appends/sync) rotations=%d open_segments=%d block_cache=%d/%d hits",
		m.Streams, m.Appends, m.EntriesWritten, m.BytesWritten, m.Syncs, perSync, m.Rotations,
		m.OpenSegmentFiles, m.BlockCacheHits, m.BlockCacheHits+m.BlockCacheMisses)
}

// metrics holds the live counters.
type metrics struct {
	appends, entries, bytes, syncs, rotations atomic.Uint64
}

// Metrics returns a snapshot of the WAL's counters.
func (w *WAL) Metrics() Metrics {
	m := Metrics{
		Appends:          w.metrics.appends.Load(),
		EntriesWritten:   w.metrics.entries.Load(),
		BytesWritten:     w.metrics.bytes.Load(),
		Syncs:            w.metrics.syncs.Load(),
		Rotations:        w.metrics.rotations.Load(),
		OpenSegmentFiles: w.handles.openFiles(),
	}
	w.mu.RLock()
	m.Streams = len(w.mu.streams)
	w.mu.RUnlock()
	if w.blocks != nil {
		m.BlockCacheHits = w.blocks.hits.Load()
		m.BlockCacheMisses = w.blocks.misses.Load()
	}
	return m
}
