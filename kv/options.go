package kv

import (
	"fmt"
	"math"
	"time"
)

// CompactionStyle chooses how the store merges its SSTs in the background.
type CompactionStyle int

const (
	// CompactionStyleLeveled (the default) keeps one sorted run per level, L1 to
	// MaxLevels-1: L0 SSTs merge into L1, and a level larger than its budget
	// (LevelSizeMultiplier times the one above) merges into the next. Fewer runs to read:
	// read-optimized.
	CompactionStyleLeveled CompactionStyle = iota
	// CompactionStyleSizeTiered merges L0 SSTs into new sorted runs and merges runs of
	// similar size together (the engine's run merging, docs/compaction.md). Less
	// rewriting: write-optimized.
	CompactionStyleSizeTiered
)

// String returns "leveled" or "size-tiered".
func (c CompactionStyle) String() string {
	switch c {
	case CompactionStyleLeveled:
		return "leveled"
	case CompactionStyleSizeTiered:
		return "size-tiered"
	}
	return fmt.Sprintf("CompactionStyle(%d)", int(c))
}

// WALSyncMode chooses when the write-ahead log is synced to disk, which decides what an
// acknowledged write survives.
type WALSyncMode int

const (
	// WALSyncNone never syncs on a write: log records are buffered in the process and
	// written out when the buffer fills, on Flush and on Close. Fastest; a crash of the
	// process (not only of the machine) may lose the most recent acknowledged writes.
	WALSyncNone WALSyncMode = iota
	// WALSyncPerBatch acknowledges a write once an fsync covering it returns; writes made
	// concurrently share one fsync (group commit). An acknowledged write survives a
	// process kill and a power cut. The default.
	WALSyncPerBatch
	// WALSyncPerWrite gives every write its own fsync: writes are serialized and none
	// shares an fsync with another. The same guarantee as WALSyncPerBatch, at the cost of
	// one fsync per write even under concurrency.
	WALSyncPerWrite
)

// String returns "none", "per-batch" or "per-write".
func (m WALSyncMode) String() string {
	switch m {
	case WALSyncNone:
		return "none"
	case WALSyncPerBatch:
		return "per-batch"
	case WALSyncPerWrite:
		return "per-write"
	}
	return fmt.Sprintf("WALSyncMode(%d)", int(m))
}

// MaxImmutableMemtables is how many full memtables may wait for their flush. When that
// many wait, a write blocks until a flush completes.
const MaxImmutableMemtables = 2

// Options configures a Store. Start from DefaultOptions (or HighPerformanceOptions,
// LowMemoryOptions): in a zero Options, only the fields whose comment says so default
// when zero.
type Options struct {
	// Dir is the base directory for all data files. Required.
	Dir string
	// MemtableSize is the most bytes of writes (keys, values and per-entry overhead) a
	// memtable holds before it is frozen and flushed as one SST. At least 64 KiB.
	// Default: 4 MiB (0 means the default).
	MemtableSize int64
	// BlockCacheSize bounds the in-memory cache of decoded SST blocks, in bytes. 0: no
	// cache (every read decodes its block again; least memory). Default: 64 MiB.
	BlockCacheSize int64
	// BlockSize is the target size of an SST data block before compression. 256 B to
	// 16 MiB. Default: 4 KiB (0 means the default).
	BlockSize int
	// CompressionLevel chooses the compression of SST blocks: -1 none; 1 and 2 snappy
	// (fastest); 3 and above (up to 22) zstd at its fastest level (smaller files, slower).
	// Default: 1 (0 means the default).
	CompressionLevel int
	// BloomFPRate is the target false positive rate of the bloom filters, above 0 and
	// below 1; the filters get ceil(-log2(rate)/ln 2) bits per key. Default: 0.01 (1%,
	// 10 bits per key; 0 means the default).
	BloomFPRate float64
	// CompactionStyle determines the compaction strategy. Default: CompactionStyleLeveled.
	CompactionStyle CompactionStyle
	// L0CompactionTrigger is the number of L0 SSTs (flushed memtables) that triggers their
	// compaction. Default: 4 (0 means the default).
	L0CompactionTrigger int
	// MaxLevels is the number of LSM levels, L0 included (CompactionStyleLeveled): sorted
	// runs live in L1 to MaxLevels-1, and the last level has no size limit. 2 to 64.
	// Default: 7 (0 means the default).
	MaxLevels int
	// LevelSizeMultiplier is the size ratio between adjacent levels
	// (CompactionStyleLeveled): L1 may hold LevelSizeMultiplier times MemtableSize times
	// L0CompactionTrigger bytes, each deeper level LevelSizeMultiplier times the one above.
	// For CompactionStyleSizeTiered it is the similarity ratio of runs merged together. 2 to
	// 1000. Default: 10 (0 means the default).
	LevelSizeMultiplier int
	// WALSyncMode determines when the write-ahead log is synced to disk. Default:
	// WALSyncPerBatch.
	WALSyncMode WALSyncMode
	// FlushInterval: a memtable holding writes this old is flushed even if not full.
	// Negative: flush only when full (or on Flush and Close). Default: 30s (0 means the
	// default).
	FlushInterval time.Duration
	// CompactionInterval is how often the background compactor checks whether a
	// compaction is due (it also checks once at Open). Default: 1s (0 means the default).
	CompactionInterval time.Duration
	// VerifyChecksums makes compaction check the SHA-256 of every SST it reads against the
	// one the manifest recorded, so that a damaged SST is reported as damaged (and never
	// rewritten into a new SST) even where its block checksums happen to pass. Block
	// checksums (CRC-32C) are checked on every read regardless. Default: true (set by
	// DefaultOptions).
	VerifyChecksums bool
	// DisableBloomFilter builds SSTs without bloom filters: less memory and disk, but a
	// Get of a missing key reads a block of every SST whose key range covers it. Default:
	// false.
	DisableBloomFilter bool
}

// The defaults of Options.
const (
	DefaultMemtableSize        = 4 << 20
	DefaultBlockCacheSize      = 64 << 20
	DefaultBlockSize           = 4 << 10
	DefaultCompressionLevel    = 1
	DefaultBloomFPRate         = 0.01
	DefaultL0CompactionTrigger = 4
	DefaultMaxLevels           = 7
	DefaultLevelSizeMultiplier = 10
	DefaultFlushInterval       = 30 * time.Second
	DefaultCompactionInterval  = time.Second
)

// DefaultOptions returns the defaults documented on each field, for dir.
func DefaultOptions(dir string) Options {
	return Options{
		Dir:                 dir,
		MemtableSize:        DefaultMemtableSize,
		BlockCacheSize:      DefaultBlockCacheSize,
		BlockSize:           DefaultBlockSize,
		CompressionLevel:    DefaultCompressionLevel,
		BloomFPRate:         DefaultBloomFPRate,
		CompactionStyle:     CompactionStyleLeveled,
		L0CompactionTrigger: DefaultL0CompactionTrigger,
		MaxLevels:           DefaultMaxLevels,
		LevelSizeMultiplier: DefaultLevelSizeMultiplier,
		WALSyncMode:         WALSyncPerBatch,
		FlushInterval:       DefaultFlushInterval,
		CompactionInterval:  DefaultCompactionInterval,
		VerifyChecksums:     true,
	}
}

// HighPerformanceOptions returns options for throughput on a machine with memory to
// spare: 64 MiB memtables (fewer, larger SSTs), a 512 MiB block cache, 16 KiB blocks,
// size-tiered compaction (less rewriting) with a higher L0 trigger. Durability is the
// default's (WALSyncPerBatch).
func HighPerformanceOptions(dir string) Options {
	o := DefaultOptions(dir)
	o.MemtableSize = 64 << 20
	o.BlockCacheSize = 512 << 20
	o.BlockSize = 16 << 10
	o.CompactionStyle = CompactionStyleSizeTiered
	o.L0CompactionTrigger = 8
	return o
}

// LowMemoryOptions returns options for memory-constrained machines: 1 MiB memtables, a
// 4 MiB block cache, 2 KiB blocks (smaller reads), leveled compaction so that a read
// looks in few SSTs. Bloom filters stay on (they live in the SSTs, read on demand). Its
// memory is measured in docs/benchmarks.md ("kv").
func LowMemoryOptions(dir string) Options {
	o := DefaultOptions(dir)
	o.MemtableSize = 1 << 20
	o.BlockCacheSize = 4 << 20
	o.BlockSize = 2 << 10
	o.CompactionStyle = CompactionStyleLeveled
	return o
}

// EnsureDefaults sets zero fields to their defaults, where the field's comment says zero
// means the default.
func (o *Options) EnsureDefaults() {
	if o.MemtableSize == 0 {
		o.MemtableSize = DefaultMemtableSize
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.CompressionLevel == 0 {
		o.CompressionLevel = DefaultCompressionLevel
	}
	if o.BloomFPRate == 0 {
		o.BloomFPRate = DefaultBloomFPRate
	}
	if o.L0CompactionTrigger == 0 {
		o.L0CompactionTrigger = DefaultL0CompactionTrigger
	}
	if o.MaxLevels == 0 {
		o.MaxLevels = DefaultMaxLevels
	}
	if o.LevelSizeMultiplier == 0 {
		o.LevelSizeMultiplier = DefaultLevelSizeMultiplier
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.CompactionInterval == 0 {
		o.CompactionInterval = DefaultCompactionInterval
	}
}

// Validate reports every invalid field at once, as an *OptionsError (matching
// ErrInvalidOptions). Open calls EnsureDefaults first; Validate itself does not, so a zero
// field the defaults would fill is reported.
func (o Options) Validate() error {
	var v []string
	bad := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	if o.Dir == "" {
		bad("Dir is required")
	}
	if o.MemtableSize < 64<<10 || o.MemtableSize > 4<<30 {
		bad("MemtableSize %d: want 64 KiB to 4 GiB", o.MemtableSize)
	}
	if o.BlockCacheSize < 0 {
		bad("BlockCacheSize %d: must not be negative", o.BlockCacheSize)
	}
	if o.BlockSize < 256 || o.BlockSize > 16<<20 {
		bad("BlockSize %d: want 256 B to 16 MiB", o.BlockSize)
	}
	if o.CompressionLevel < -1 || o.CompressionLevel == 0 || o.CompressionLevel > 22 {
		bad("CompressionLevel %d: want -1 (none) or 1 to 22", o.CompressionLevel)
	}
	if !(o.BloomFPRate > 0 && o.BloomFPRate < 1) {
		bad("BloomFPRate %v: want above 0 and below 1", o.BloomFPRate)
	} else if bloomBitsPerKey(o.BloomFPRate) > 64 {
		bad("BloomFPRate %v: needs %d bits per key, at most 64 are supported", o.BloomFPRate, bloomBitsPerKey(o.BloomFPRate))
	}
	if o.CompactionStyle != CompactionStyleLeveled && o.CompactionStyle != CompactionStyleSizeTiered {
		bad("CompactionStyle %d: want CompactionStyleLeveled or CompactionStyleSizeTiered", int(o.CompactionStyle))
	}
	if o.L0CompactionTrigger < 1 || o.L0CompactionTrigger > 1024 {
		bad("L0CompactionTrigger %d: want 1 to 1024", o.L0CompactionTrigger)
	}
	if o.MaxLevels < 2 || o.MaxLevels > 64 {
		bad("MaxLevels %d: want 2 to 64", o.MaxLevels)
	}
	if o.LevelSizeMultiplier < 2 || o.LevelSizeMultiplier > 1000 {
		bad("LevelSizeMultiplier %d: want 2 to 1000", o.LevelSizeMultiplier)
	}
	if o.WALSyncMode < WALSyncNone || o.WALSyncMode > WALSyncPerWrite {
		bad("WALSyncMode %d: want WALSyncNone, WALSyncPerBatch or WALSyncPerWrite", int(o.WALSyncMode))
	}
	if o.FlushInterval == 0 {
		bad("FlushInterval 0: want a duration, or negative for none")
	}
	if o.CompactionInterval <= 0 {
		bad("CompactionInterval %v: want more than 0", o.CompactionInterval)
	}
	if len(v) == 0 {
		return nil
	}
	return &OptionsError{Violations: v}
}

// bloomBitsPerKey returns the bits per key of a bloom filter with false positive rate
// fp: ceil(-log2(fp) / ln 2), 10 for 1%.
func bloomBitsPerKey(fp float64) int {
	return int(math.Ceil(-math.Log2(fp) / math.Ln2))
}

// compression returns the engine codec of a CompressionLevel.
func compression(level int) string {
	switch {
	case level < 0:
		return "none"
	case level <= 2:
		return "snappy"
	}
	return "zstd"
}
