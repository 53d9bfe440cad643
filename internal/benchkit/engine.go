package benchkit

import (
	"context"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// Engine is a key-value store the workloads run against. Every method may be called
// concurrently with every other, except Close. Put must not retain key or value after it
// returns.
type Engine interface {
	// Put writes value under key. It need not be durable nor visible to Get until Sync.
	Put(key, value []byte) error
	// Get reads key and reports whether it was found.
	Get(key []byte) (found bool, err error)
	// Scan reads up to n pairs from the first key >= start in key order and returns how
	// many it read, their key and value bytes, and a copy of the n-th key when it read n
	// pairs (nil or the last key read when the range ended first). Every adapter iterates
	// with its engine's iterator and tallies each pair with a ScanTally (touching, not
	// copying, keys and values), so the scan workload asks the same work of each engine.
	Scan(start []byte, n int) (count, bytes int, last []byte, err error)
	// Sync makes every write so far durable and visible to Get and Scan.
	Sync() error
	// DropCaches empties the read caches the engine controls (it reopens the read side),
	// so the next reads are cold.
	DropCaches() error
	// Close releases everything.
	Close() error
}

// Refresher is an Engine whose reads see new writes only after Refresh (IsleDB's
// Reader). Workloads that read while writing call it periodically.
type Refresher interface {
	Refresh() error
}

// Warmer is an Engine whose caches fill in the background: Warm, called after the warm-up
// scan of readrandom and readwhilewriting, waits until what the scan read is cached.
type Warmer interface {
	Warm() error
}

// RequestCounter is an Engine on an object store: its requests are accounted.
type RequestCounter interface {
	StoreStats() blobstore.Stats
}

// Tailer is an Engine with a change feed. TailLatency writes n keys (made by key) one
// at a time, each made durable at once, and calls record with the time from the write
// to the delivery of that key to a tailing reader.
type Tailer interface {
	TailLatency(ctx context.Context, n int, key func(i int) []byte, value []byte, record func(time.Duration)) error
}

// Opener opens a new, empty engine instance; name tells instances of one run apart
// (it becomes a directory or prefix).
type Opener struct {
	// Name of the engine ("isledb", "pebble", ...).
	Engine string
	// Backend names where the data lives ("file", "memory", "sim-s3", "s3", "disk").
	Backend string
	// Open opens an empty instance.
	Open func(ctx context.Context, name string) (Engine, error)
}
