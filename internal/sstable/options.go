package sstable

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of WriterOptions and ReaderOptions.
const (
	// DefaultBlockSize is the target size of a data block before compression.
	DefaultBlockSize = 4096
	// DefaultBloomBitsPerKey gives a false positive rate of about 1%.
	DefaultBloomBitsPerKey = 10
	// DefaultRestartInterval is the number of entries between restart points of a data block.
	DefaultRestartInterval = 16
	// DefaultTailReadSize is how many bytes at the end of a file a reader fetches at open,
	// hoping that footer, properties, index and filter all fit.
	DefaultTailReadSize = 64 << 10
	// DefaultReadaheadSize is the largest single read an iterator issues when it walks
	// blocks in order.
	DefaultReadaheadSize = 256 << 10

	// NoBloomFilter, as WriterOptions.BloomBitsPerKey, writes no filter block.
	NoBloomFilter = -1

	maxBlockSizeOption    = 16 << 20
	maxBloomBitsPerKey    = 64
	maxRestartInterval    = 1 << 16
	maxTailReadSizeOption = 64 << 20
	maxParallelism        = 64
)

// WriterOptions configure a Writer. The zero value is valid and means all defaults.
type WriterOptions struct {
	// BlockSize is the target size in bytes of a data block before compression: a block is
	// cut before the entry that would take it past this size. Default 4096 (DefaultBlockSize);
	// at most 16 MiB.
	BlockSize int
	// RestartInterval is the number of entries between restart points (entries whose key is
	// stored whole). Smaller is faster to seek and larger is smaller on disk. Default 16.
	RestartInterval int
	// BloomBitsPerKey is the size of the bloom filter in bits per distinct user key.
	// 0 selects the default of 10 (DefaultBloomBitsPerKey, about 1% false positives);
	// NoBloomFilter (any negative value) writes no filter. At most 64.
	BloomBitsPerKey int
	// Compression names the block codec: "none", "snappy", "zstd" or "lz4". Default ""
	// (DefaultCompression, snappy). Blocks that do not shrink by at least 1/8 are stored
	// uncompressed whatever the codec.
	Compression string
	// CreationTime is recorded in the properties. Default (zero): time.Now() when the writer
	// is created. Set it to make output reproducible.
	CreationTime time.Time
	// Parallelism is how many data blocks may be compressed at once, each on its own
	// short-lived goroutine, while the caller keeps adding entries. It is meant for zstd,
	// whose encoder costs about 20µs per 4 KiB block, and helps only when spare cores exist;
	// the cheap codecs gain nothing from it. The output is identical
	// whatever the value. Default (0) and 1: compress on the caller's goroutine, so that a
	// writer never uses more than one core unless asked to. At most 64.
	Parallelism int
}

// EnsureDefaults returns a copy of o with every zero field replaced by its default.
func (o WriterOptions) EnsureDefaults() WriterOptions {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.RestartInterval == 0 {
		o.RestartInterval = DefaultRestartInterval
	}
	if o.BloomBitsPerKey == 0 {
		o.BloomBitsPerKey = DefaultBloomBitsPerKey
	} else if o.BloomBitsPerKey < 0 {
		o.BloomBitsPerKey = NoBloomFilter
	}
	if o.Compression == "" {
		o.Compression = DefaultCompression.String()
	}
	if o.CreationTime.IsZero() {
		o.CreationTime = time.Now()
	}
	return o
}

// Validate reports every invalid field at once. Call it after EnsureDefaults.
func (o WriterOptions) Validate() error {
	var errs []error
	if o.BlockSize < 1 || o.BlockSize > maxBlockSizeOption {
		errs = append(errs, fmt.Errorf("BlockSize %d not in [1, %d]", o.BlockSize, maxBlockSizeOption))
	}
	if o.RestartInterval < 1 || o.RestartInterval > maxRestartInterval {
		errs = append(errs, fmt.Errorf("RestartInterval %d not in [1, %d]", o.RestartInterval, maxRestartInterval))
	}
	if o.BloomBitsPerKey != NoBloomFilter && (o.BloomBitsPerKey < 1 || o.BloomBitsPerKey > maxBloomBitsPerKey) {
		errs = append(errs, fmt.Errorf("BloomBitsPerKey %d not in [1, %d] nor NoBloomFilter", o.BloomBitsPerKey, maxBloomBitsPerKey))
	}
	if _, err := ParseCompression(o.Compression); err != nil {
		errs = append(errs, err)
	}
	if o.Parallelism < 0 || o.Parallelism > maxParallelism {
		errs = append(errs, fmt.Errorf("Parallelism %d not in [0, %d]", o.Parallelism, maxParallelism))
	}
	if o.CreationTime.UnixNano() < 0 {
		errs = append(errs, fmt.Errorf("CreationTime %v is before 1970", o.CreationTime))
	}
	return wrapOptionErrors(errs)
}

// ReaderOptions configure a Reader. The zero value is valid and means all defaults.
type ReaderOptions struct {
	// Object names the file in errors, for example "sst/000123.sst". Default "".
	Object string
	// Cache holds decoded blocks across lookups and readers. Default nil: no cache, every
	// block is fetched (and decompressed) again when needed.
	Cache BlockCache
	// CacheID identifies this file within Cache. Readers of the same immutable file may
	// share an ID to share cached blocks; different files must never share one. IDs chosen
	// by the caller must be below 1<<63. Default 0: a process-unique ID is assigned (at or
	// above 1<<63); blocks of closed readers then simply age out of the cache (or call
	// LRUCache.EvictFile).
	CacheID uint64
	// TailReadSize is the size of the speculative read of the end of the file that Open
	// issues. If the footer, properties, index and filter do not all fit, Open issues one
	// more read for the rest; if the whole file fits, no more reads are ever issued.
	// Default 64 KiB (DefaultTailReadSize); at least 64 and at most 64 MiB.
	TailReadSize int
	// ReadaheadSize bounds the reads that iterators issue when they walk blocks in order:
	// a run of cache misses starts with single-block reads and doubles up to this size.
	// Default 256 KiB (DefaultReadaheadSize); NoReadahead (any negative value) reads one
	// block at a time.
	ReadaheadSize int
}

// NoReadahead, as ReaderOptions.ReadaheadSize, makes iterators read one block at a time.
const NoReadahead = -1

// EnsureDefaults returns a copy of o with every zero field replaced by its default.
func (o ReaderOptions) EnsureDefaults() ReaderOptions {
	if o.TailReadSize == 0 {
		o.TailReadSize = DefaultTailReadSize
	}
	if o.ReadaheadSize == 0 {
		o.ReadaheadSize = DefaultReadaheadSize
	} else if o.ReadaheadSize < 0 {
		o.ReadaheadSize = NoReadahead
	}
	return o
}

// Validate reports every invalid field at once. Call it after EnsureDefaults.
func (o ReaderOptions) Validate() error {
	var errs []error
	if o.TailReadSize < footerLen || o.TailReadSize > maxTailReadSizeOption {
		errs = append(errs, fmt.Errorf("TailReadSize %d not in [%d, %d]", o.TailReadSize, footerLen, maxTailReadSizeOption))
	}
	if o.CacheID >= autoCacheIDBase {
		errs = append(errs, fmt.Errorf("CacheID %#x is reserved (must be below 1<<63)", o.CacheID))
	}
	if o.ReadaheadSize > maxTailReadSizeOption {
		errs = append(errs, fmt.Errorf("ReadaheadSize %d above %d", o.ReadaheadSize, maxTailReadSizeOption))
	}
	return wrapOptionErrors(errs)
}

func wrapOptionErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}
