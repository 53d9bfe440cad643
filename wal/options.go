package wal

import (
	"fmt"
	"log/slog"
)

// SyncMode chooses when appended records are forced to stable storage with fsync.
type SyncMode uint8

const (
	// SyncStrict makes every Append, AppendBatch and TxnWriter.Commit return only after its
	// records are on stable storage (flushed and fsynced). Concurrent appenders to one
	// stream share fsyncs (group commit), so throughput grows with concurrency.
	SyncStrict SyncMode = iota
	// SyncBatchOnly fsyncs on AppendBatch and TxnWriter.Commit (which then also make every
	// earlier record of the stream durable). A single Append is buffered in memory and is
	// durable only after a later batch, a segment rotation, Sync or Close.
	SyncBatchOnly
	// SyncAsync never fsyncs on append. Records are buffered in memory (up to
	// WriteBufferSize), written to the operating system when the buffer fills, and fsynced
	// only on segment rotation, Sync and Close. A crash may lose recent records, but never
	// leaves a torn or partial batch visible.
	SyncAsync
)

// String returns the name of m.
func (m SyncMode) String() string {
	switch m {
	case SyncStrict:
		return "Strict"
	case SyncBatchOnly:
		return "BatchOnly"
	case SyncAsync:
		return "Async"
	}
	return fmt.Sprintf("SyncMode(%d)", uint8(m))
}

// Compression chooses how record payloads are stored.
type Compression uint8

const (
	// CompressionNone stores payloads as they are.
	CompressionNone Compression = iota
	// CompressionLZ4 compresses each payload of at least MinCompressionSize bytes as one LZ4
	// block, and keeps the compressed form only when it is smaller.
	CompressionLZ4
)

// String returns the name of c.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "None"
	case CompressionLZ4:
		return "LZ4"
	}
	return fmt.Sprintf("Compression(%d)", uint8(c))
}

// ReadStrategy chooses how sealed segments are read.
type ReadStrategy uint8

const (
	// ReadStandardIO reads segments with pread through a buffer.
	ReadStandardIO ReadStrategy = iota
	// ReadMmap memory-maps sealed (read-only) segments. The active segment, which still
	// grows, is always read with pread. On platforms without mmap support it falls back to
	// ReadStandardIO.
	ReadMmap
)

// String returns the name of r.
func (r ReadStrategy) String() string {
	switch r {
	case ReadStandardIO:
		return "StandardIO"
	case ReadMmap:
		return "Mmap"
	}
	return fmt.Sprintf("ReadStrategy(%d)", uint8(r))
}

// CorruptionPolicy chooses what Open does when the tail of a stream's active segment does not
// decode (a torn write after a crash, a flipped bit, trailing garbage). Corruption in sealed
// segments is never cut: it is reported when the segment is read, under every policy.
type CorruptionPolicy uint8

const (
	// OnCorruptionTruncate cuts the active segment back to the end of its last complete,
	// valid record (and drops any incomplete batch before it), logs a warning, and carries on.
	// Appends continue after the last good record. Valid records after the damage, if any,
	// are cut with it.
	OnCorruptionTruncate CorruptionPolicy = iota
	// OnCorruptionError makes Open fail with a *CorruptionError or *CRCMismatchError that
	// names the file and the offset of the first bad record.
	OnCorruptionError
	// OnCorruptionTruncateTornTail tells a torn tail from damage in the middle of the log. When
	// no record after the first bad one passes its checksum (a record cut short or garbled
	// at the end of the data, as a crash mid-append leaves), it cuts the tail like
	// OnCorruptionTruncate. When a valid record follows the damage (a flipped bit, a lost
	// sector in data written before other records), Open fails with a
	// *MidLogCorruptionError (matching ErrMidLogCorruption and ErrCorruption) that names the
	// file, the offset and sequence number of the first bad record, and where the valid
	// records resume; nothing is modified. A corrupt segment header is treated the same way.
	// A process crash cannot cause such an error; a power cut can, in SyncBatchOnly and
	// SyncAsync modes or in the unsynced records of concurrent SyncStrict appends, when
	// pages of unsynced records reach the disk with holes between them.
	OnCorruptionTruncateTornTail
)

// String returns the name of p.
func (p CorruptionPolicy) String() string {
	switch p {
	case OnCorruptionTruncate:
		return "Truncate"
	case OnCorruptionError:
		return "Error"
	case OnCorruptionTruncateTornTail:
		return "TruncateTornTail"
	}
	return fmt.Sprintf("CorruptionPolicy(%d)", uint8(p))
}

// Default option values, applied by EnsureDefaults to zero fields.
const (
	DefaultMaxSegmentSize       = 64 << 20
	DefaultMaxEntriesPerSegment = 1 << 20
	DefaultMaxOpenSegments      = 64
	DefaultWriteBufferSize      = 64 << 10
	DefaultReadBufferSize       = 64 << 10
	DefaultMinCompressionSize   = 256
)

// Limits enforced by Validate.
const (
	minSegmentSize     = 4 << 10
	maxSegmentSizeCap  = 1 << 30
	maxBufferSize      = 1 << 30
	minReadBufferSize  = 512
	minWriteBufferSize = 512
)

// Options configures a WAL. The zero value of every field means "use the default", which each
// field's comment states; Open applies EnsureDefaults and then Validate.
type Options struct {
	// RootPath is the directory holding one subdirectory per stream. It is created if
	// missing. Required.
	RootPath string

	// MaxSegmentSize is the soft size limit of a segment file in bytes: a new segment is
	// started before an append that would grow the active one past it (a single batch larger
	// than the limit still goes into one segment). Default 64 MiB; at least 4 KiB, at most
	// 1 GiB.
	MaxSegmentSize int64

	// MaxEntriesPerSegment is the soft limit of entries per segment, applied like
	// MaxSegmentSize. Default 1,048,576.
	MaxEntriesPerSegment int64

	// MaxOpenSegments is the capacity of the LRU cache of segment files open for reading
	// (file descriptors, and mappings with ReadMmap), shared by all streams. Iterators pin
	// the file they are reading, so the count may exceed the capacity by the number of open
	// iterators. Default 64.
	MaxOpenSegments int

	// WriteBufferSize is the size in bytes of each stream's in-memory write buffer. Buffered
	// records are written to the operating system when it fills, on fsync, on rotation,
	// before reads that need them, and on Close. Default 64 KiB.
	WriteBufferSize int

	// ReadBufferSize is the size in bytes of the buffer an Iterator reads segments through
	// with ReadStandardIO. Default 64 KiB.
	ReadBufferSize int

	// BlockCacheSize is the capacity in bytes of a cache of 32 KiB blocks of sealed segments,
	// used by Get with ReadStandardIO. Default 0: no block cache.
	BlockCacheSize int64

	// SyncMode chooses when appends are fsynced. Default SyncStrict.
	SyncMode SyncMode

	// Compression chooses how payloads are stored. Default CompressionNone.
	Compression Compression

	// MinCompressionSize is the smallest entry, in bytes, that Compression applies to;
	// smaller entries are stored as they are. Default 256.
	MinCompressionSize int

	// ReadStrategy chooses how sealed segments are read. Default ReadStandardIO.
	ReadStrategy ReadStrategy

	// OnCorruption chooses what Open does with a torn or corrupt tail. Default
	// OnCorruptionTruncate (which also cuts damage that valid records follow; see
	// OnCorruptionTruncateTornTail).
	OnCorruption CorruptionPolicy

	// Logger receives warnings such as a truncated tail. Default: discard everything.
	Logger *slog.Logger
}

// DefaultOptions returns Options for root with every default filled in.
func DefaultOptions(root string) Options {
	o := Options{RootPath: root}
	o.EnsureDefaults()
	return o
}

// EnsureDefaults replaces every zero field with its default. It leaves negative or otherwise
// invalid values alone, for Validate to report.
func (o *Options) EnsureDefaults() {
	if o.MaxSegmentSize == 0 {
		o.MaxSegmentSize = DefaultMaxSegmentSize
	}
	if o.MaxEntriesPerSegment == 0 {
		o.MaxEntriesPerSegment = DefaultMaxEntriesPerSegment
	}
	if o.MaxOpenSegments == 0 {
		o.MaxOpenSegments = DefaultMaxOpenSegments
	}
	if o.WriteBufferSize == 0 {
		o.WriteBufferSize = DefaultWriteBufferSize
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.MinCompressionSize == 0 {
		o.MinCompressionSize = DefaultMinCompressionSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every invalid field at once as a *ConfigError (which matches ErrConfig), or
// returns nil. Call EnsureDefaults first: Validate treats zero fields as invalid.
func (o *Options) Validate() error {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if o.RootPath == "" {
		bad("RootPath must be set")
	}
	if o.MaxSegmentSize < minSegmentSize || o.MaxSegmentSize > maxSegmentSizeCap {
		bad("MaxSegmentSize %d out of range [%d, %d]", o.MaxSegmentSize, minSegmentSize, maxSegmentSizeCap)
	}
	if o.MaxEntriesPerSegment < 1 {
		bad("MaxEntriesPerSegment %d must be positive", o.MaxEntriesPerSegment)
	}
	if o.MaxOpenSegments < 1 {
		bad("MaxOpenSegments %d must be positive", o.MaxOpenSegments)
	}
	if o.WriteBufferSize < minWriteBufferSize || o.WriteBufferSize > maxBufferSize {
		bad("WriteBufferSize %d out of range [%d, %d]", o.WriteBufferSize, minWriteBufferSize, maxBufferSize)
	}
	if o.ReadBufferSize < minReadBufferSize || o.ReadBufferSize > maxBufferSize {
		bad("ReadBufferSize %d out of range [%d, %d]", o.ReadBufferSize, minReadBufferSize, maxBufferSize)
	}
	if o.BlockCacheSize < 0 {
		bad("BlockCacheSize %d must not be negative", o.BlockCacheSize)
	}
	if o.SyncMode > SyncAsync {
		bad("unknown SyncMode %d", uint8(o.SyncMode))
	}
	if o.Compression > CompressionLZ4 {
		bad("unknown Compression %d", uint8(o.Compression))
	}
	if o.MinCompressionSize < 1 {
		bad("MinCompressionSize %d must be positive", o.MinCompressionSize)
	}
	if o.ReadStrategy > ReadMmap {
		bad("unknown ReadStrategy %d", uint8(o.ReadStrategy))
	}
	if o.OnCorruption > OnCorruptionTruncateTornTail {
		bad("unknown OnCorruption policy %d", uint8(o.OnCorruption))
	}
	if o.Logger == nil {
		bad("Logger must be set")
	}
	if len(p) > 0 {
		return &ConfigError{Problems: p}
	}
	return nil
}
