package config

import (
	"errors"
	"fmt"
	"time"
)

// ValueStorageConfig controls how values are stored: inline in SSTs, or, at or above
// BlobThreshold, as content-addressed blob objects the SST refers to.
type ValueStorageConfig struct {
	ValueOptions
	BlobReadOptions
	BlobGCOptions
}

// ValueOptions limits keys and values and sets the blob threshold.
type ValueOptions struct {
	// MaxKeySize is the longest key accepted, in bytes: 1 to KeySizeLimit (64 KiB, the SST
	// format's limit; see "Limits" in docs/format.md). Default: KeySizeLimit.
	MaxKeySize int
	// BlobThreshold: values of at least this many bytes are written as blob objects
	// (blob/<sha256>) and the SST holds a 40-byte reference. Default: 256 KiB.
	// A negative value disables blobs: every value is stored inline. Values below the
	// threshold are stored inline, so they must fit InlineValueSizeLimit (see MaxValueSize).
	BlobThreshold int
	// MaxValueSize is the largest value accepted, in bytes: 0 to ValueSizeLimit (4 GiB;
	// less with a writer WAL, see isledb.MaxValueSizeWithWAL). Values stored inline (below
	// BlobThreshold, or all of them when blobs are disabled) may not exceed
	// InlineValueSizeLimit (256 MiB): Validate refuses a MaxValueSize above it unless blobs
	// are enabled with a BlobThreshold of at most InlineValueSizeLimit + 1, so that every
	// larger value becomes a blob. Limits are listed in docs/format.md ("Limits").
	// Default: 256 MiB.
	MaxValueSize int64
}

// BlobReadOptions controls how a reader checks the blobs it reads.
//
// A blob read from the bucket is always checked against its reference (length and SHA-256)
// before it is returned or cached. A blob read from the reader's disk cache is checked by
// default too, since the file may have been damaged since it was stored (a crash without
// fsync, a disk error, a stray write): always its length, and its SHA-256 unless
// SkipCachedBlobHash is set. A cached copy that fails is dropped and fetched again from the
// bucket; if the bucket's copy fails too, the read fails with an error matching
// ErrCorruption.
//
// The cost of the hash was measured (BenchmarkVerify in internal/blobref, against
// BenchmarkReadAllSizes in internal/diskcache) on a 2-core AMD EPYC with SHA extensions:
// SHA-256 runs at about 1.3 GB/s, 0.8 ms per MiB, about as much again as reading the
// cached file itself (0.6 to 1.4 ms per MiB), and far less than the bucket read a cache hit
// saves. Hence hashing cached blobs is the default.
type BlobReadOptions struct {
	// VerifyBlobsOnRead re-hashes every blob read (from the bucket or the cache) and
	// fails the read if the SHA-256 does not match its name. Cached blobs are hashed by
	// default now (see the type's documentation); setting VerifyBlobsOnRead overrides
	// SkipCachedBlobHash. Default: false.
	VerifyBlobsOnRead bool
	// SkipCachedBlobHash checks blobs read from the disk cache by length only, not by
	// SHA-256, saving about 0.8 ms of CPU per MiB read (see the type's documentation). It
	// has no effect when VerifyBlobsOnRead is set. Blobs read from the bucket are always
	// hashed. Default: false.
	SkipCachedBlobHash bool
}

// BlobGCOptions controls the deletion of blobs no SST refers to. Blob GC is carried out by a
// compactor and configured there only (CompactorOptions.BlobGC,
// RetentionCompactorOptions.BlobGC): the copy inside a writer's ValueStorage is not used,
// since writers protect the blobs they reuse through the GC state, with no setting of
// their own.
type BlobGCOptions struct {
	// Enabled turns blob garbage collection on. Default: false.
	Enabled bool
	// Interval is how often the compactor looks for unreferenced blobs. Default: 1h.
	Interval time.Duration
	// MinAge: a blob younger than this is never deleted, so that a blob written by a
	// flush whose SST is not yet uploaded survives; and an unreferenced blob is deleted
	// only after it has been a candidate for MinAge, so that a flush reusing it uploads its
	// SST first. It must be at least the compactor's GCGracePeriod (checked by its
	// Validate): blob GC assumes that a flush attempt uploads its SST within MinAge of
	// writing its blobs. Default: 24h.
	MinAge time.Duration
}

// The defaults, as DefaultValueStorageConfig returns them.
const (
	DefaultMaxKeySize     = KeySizeLimit
	DefaultBlobThreshold  = 256 << 10
	DefaultMaxValueSize   = InlineValueSizeLimit
	DefaultBlobGCInterval = time.Hour
	DefaultGCMinAge       = 24 * time.Hour
)

// DefaultValueStorageConfig returns the defaults documented on each field.
func DefaultValueStorageConfig() ValueStorageConfig {
	var c ValueStorageConfig
	c.EnsureDefaults()
	return c
}

// EnsureDefaults sets every zero field to its default.
func (c *ValueStorageConfig) EnsureDefaults() {
	if c.MaxKeySize == 0 {
		c.MaxKeySize = DefaultMaxKeySize
	}
	if c.BlobThreshold == 0 {
		c.BlobThreshold = DefaultBlobThreshold
	}
	if c.MaxValueSize == 0 {
		c.MaxValueSize = DefaultMaxValueSize
	}
	if c.Interval == 0 {
		c.Interval = DefaultBlobGCInterval
	}
	if c.MinAge == 0 {
		c.MinAge = DefaultGCMinAge
	}
}

// ErrInvalidConfig is what Validate's errors wrap.
var ErrInvalidConfig = errors.New("config: invalid value storage configuration")

// Validate reports every invalid field at once.
func (c ValueStorageConfig) Validate() error {
	var errs []error
	if c.MaxKeySize < 1 || c.MaxKeySize > KeySizeLimit {
		errs = append(errs, fmt.Errorf("MaxKeySize %d: want 1 to %d (KeySizeLimit, the SST format's key limit)", c.MaxKeySize, KeySizeLimit))
	}
	if c.MaxValueSize < 0 || c.MaxValueSize > ValueSizeLimit {
		errs = append(errs, fmt.Errorf("MaxValueSize %d: want 0 to %d (ValueSizeLimit)", c.MaxValueSize, ValueSizeLimit))
	} else if n := c.MaxInlineValueSize(); n > InlineValueSizeLimit {
		errs = append(errs, fmt.Errorf("MaxValueSize %d with BlobThreshold %d: values of up to %d bytes would be stored inline, above the SST format's InlineValueSizeLimit %d; lower MaxValueSize, or BlobThreshold to at most %d",
			c.MaxValueSize, c.BlobThreshold, n, InlineValueSizeLimit, InlineValueSizeLimit+1))
	}
	if c.BlobThreshold > 0 && int64(c.BlobThreshold) > c.MaxValueSize && c.MaxValueSize > 0 {
		// Harmless (no value reaches the threshold) but surely not what was meant.
		errs = append(errs, fmt.Errorf("BlobThreshold %d exceeds MaxValueSize %d", c.BlobThreshold, c.MaxValueSize))
	}
	if c.Interval < 0 || c.MinAge < 0 {
		errs = append(errs, fmt.Errorf("blob GC Interval %v and MinAge %v must not be negative", c.Interval, c.MinAge))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// MaxInlineValueSize returns the largest value these options let an SST hold inline: the
// largest accepted value (MaxValueSize) that StoresAsBlob does not send to a blob.
func (o ValueOptions) MaxInlineValueSize() int64 {
	if o.BlobThreshold > 0 {
		return min(o.MaxValueSize, int64(o.BlobThreshold)-1)
	}
	return o.MaxValueSize
}

// StoresAsBlob reports whether a value of n bytes is written as a blob object.
func (o ValueOptions) StoresAsBlob(n int) bool {
	return o.BlobThreshold > 0 && n >= o.BlobThreshold
}
