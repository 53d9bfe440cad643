package isledb

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
	"github.com/isledb/isledb/wal"
)

// DBOptions configures OpenDB.
type DBOptions struct {
	// ManifestStorage stores the manifest log and snapshots. Default: the bucket.
	ManifestStorage manifest.Storage
	// GCMarkStorage stores the garbage collector's state. Default: the bucket. Writers use
	// it too (to protect the blobs they reuse from blob GC): every process of a database
	// must use the same storage.
	GCMarkStorage manifest.GCMarkStorage
	// Logger receives the warnings of the DB's writers about shared state they find
	// damaged and repair (a damaged gc/checkpoint set aside and replaced; docs/format.md).
	// Default (nil): slog.Default().
	Logger *slog.Logger
}

// WriterOptions configures a Writer. Zero fields take the defaults of
// DefaultWriterOptions.
type WriterOptions struct {
	// MemtableSize is how many bytes of writes (keys, values and overhead) the active
	// memtable holds before it is frozen and flushed as one SST. Default: 64 MiB; at least
	// MinMemtableSize (1 KiB), at most 4 GiB. Small memtables suit tests, not production:
	// every flush costs an SST upload and a manifest append (2 PUTs at least, plus one per
	// blob), so a 4 KiB memtable turns 1 MiB of writes into about 256 SSTs and 512 requests,
	// and L0 fills up for the compactor to merge again.
	MemtableSize int64
	// FlushInterval bounds how long a write waits in memory before a flush. Default: 1s.
	// Negative: flush only when the memtable is full or Flush is called.
	FlushInterval time.Duration
	// BloomBitsPerKey sizes the bloom filter of each SST. Default: 10 (about 1% false
	// positives). Negative: no filter.
	BloomBitsPerKey int
	// BlockSize is the target size of an SST data block before compression. Default: 4 KiB.
	BlockSize int
	// Compression of SST blocks: "none", "snappy", "zstd" or "lz4". Default: "snappy".
	Compression string
	// MaxImmutableMemtables is how many frozen memtables may wait for their flush before
	// writes fail with ErrBackpressure. Default: 4. The writer's memtables then hold at most
	// MemtableSize x (MaxImmutableMemtables+1), plus one memtable's memory kept idle for
	// reuse (docs/memory.md).
	MaxImmutableMemtables int
	// OnFlushError is called (from the flush goroutine) with every failed flush attempt.
	// A failed flush is retried with backoff unless the error is terminal (the writer
	// was fenced), in which case the writer stops. Default: ignore.
	OnFlushError func(error)
	// ValueStorage limits keys and values and sets when values become blobs. Validate
	// refuses limits the formats cannot store (config.ValueOptions, MaxValueSizeWithWAL;
	// docs/format.md, "Limits"), so that every write Put accepts can be flushed. Default:
	// config.DefaultValueStorageConfig().
	ValueStorage config.ValueStorageConfig
	// OwnerID names this writer in its fence claim. Default: "<hostname>-<pid>".
	OwnerID string
	// MaxBatchSize bounds Batch.Size for Writer.Apply: a larger batch fails with
	// ErrBatchTooLarge. A batch is one WAL record and goes whole into one memtable, so this
	// also bounds how far one batch can take a memtable past MemtableSize. Default: 64 MiB;
	// at most MaxBatchSizeLimit.
	MaxBatchSize int64
	// Signer, when set, signs each SST's SHA-256; the signature goes in the manifest.
	Signer SSTHashSigner
	// WALDir, when set, keeps a write-ahead log of unflushed writes in this local
	// directory: a write is acknowledged only once the log holds it (per WALSyncMode), and
	// opening a writer on the same directory after a crash replays the writes the manifest
	// does not have, then flushes them. Default: "" (no WAL: unflushed writes live only in
	// memory). A WAL directory belongs to one database prefix.
	WALDir string
	// WALSyncMode: wal.SyncStrict (default) acknowledges a write only after an fsync
	// covering it (concurrent writes share fsyncs); wal.SyncBatchOnly and wal.SyncAsync
	// acknowledge at once, and the log reaches stable storage when it rotates a segment
	// and on Close (a crash may lose the most recent writes).
	WALSyncMode wal.SyncMode
	// DiscardUnresolvedWAL lets OpenWriter drop the unflushed writes of a superseded
	// writer whose fate it cannot tell (see ErrWALStale) instead of failing; they are
	// counted in WALReplayStats.Discarded. It also drops logged writes that no flush could
	// store (above the format's limits, logged by a version that accepted them), counted in
	// WALReplayStats.Unstorable. Default: false (OpenWriter fails with ErrWALStale, or for
	// an unstorable write ErrKeyTooLarge or ErrValueTooLarge, and leaves the log untouched).
	DiscardUnresolvedWAL bool
	// WALRecovery chooses what OpenWriter does with a damaged WAL. A torn tail (a last
	// record cut short or garbled, as a crash mid-append leaves it) is always cut silently.
	// Damage that valid records follow (a flipped bit, a lost sector) is, by default
	// (WALRecoveryFailOnCorruption, the zero value), an error from OpenWriter matching
	// ErrCorruption and wrapping a *wal.MidLogCorruptionError that names the segment file,
	// offset and WAL record; nothing is changed. WALRecoveryTruncateAtCorruption instead
	// cuts the log at the damage, dropping the writes logged after it, and opens; the
	// writer's WALCorruption method then reports what was cut.
	WALRecovery WALRecoveryMode
	// BucketWAL makes writes durable in the bucket before their flush: they are written as
	// group-committed WAL objects under "wal/" (docs/format.md, "Bucket WAL objects"), so a
	// write whose Sync returned survives the loss of the writer's machine, and a writer
	// opened anywhere later (any cache, no WALDir) replays it. BucketWALOnSync sends writes
	// at once in the background and Writer.Sync waits for them; BucketWALEachWrite makes
	// every Put, Delete, Apply and transaction commit wait. Default: BucketWALOff (writes
	// reach the bucket with their flush). Not with WALDir (the bucket WAL replaces it).
	// Every writer of a database should use it once one does: a writer without it neither
	// fences nor replays the WAL objects (a later writer with it then fails with
	// ErrWALStale when a writer without it published in between, see
	// DiscardUnresolvedWAL).
	BucketWAL BucketWALMode
	// BucketWALMaxObjectSize bounds the records of one WAL object, in bytes (a larger
	// single write goes alone). Default: 16 MiB; at least 64 KiB.
	BucketWALMaxObjectSize int
	// Metrics, when set, receives the writer's Prometheus metrics (NewWriterMetrics,
	// DefaultWriterMetrics). Default: nil, no metrics.
	Metrics *WriterMetrics
	// Logger receives the writer's log: failed flush attempts at Warn, each flush and
	// each write refused with ErrBackpressure at Debug. Default (nil): silent.
	Logger *slog.Logger
	// TxnReader configures the private reader the writer's transactions read through
	// (opened by the first Begin, closed by Close); its ManifestStorage is always the
	// writer's. An empty CacheDir gets a new temporary directory, removed by Close.
	// Default (nil): DefaultReaderOpenOptions with such a temporary CacheDir.
	TxnReader *ReaderOpenOptions
}

// The defaults of WriterOptions.
const (
	DefaultMemtableSize          = 64 << 20
	DefaultFlushInterval         = time.Second
	DefaultBloomBitsPerKey       = 10
	DefaultBlockSize             = 4 << 10
	DefaultCompression           = "snappy"
	DefaultMaxImmutableMemtables = 4
)

// MinMemtableSize is the smallest WriterOptions.MemtableSize Validate accepts (1 KiB; the
// original isledb's users run tests with memtables of 256 B to 4 KiB, below which a
// memtable would hold only a few entries). See MemtableSize for the cost of small ones.
const MinMemtableSize = 1 << 10

// MaxValueSizeWithWAL is the largest ValueStorage.MaxValueSize a writer with a WALDir
// accepts: a write is one WAL entry, at most wal.MaxEntrySize (1 GiB) with a key of up to
// config.KeySizeLimit and the record header (see "Limits" in docs/format.md).
const MaxValueSizeWithWAL = wal.MaxEntrySize - config.KeySizeLimit - walRecordMaxOverhead

// DefaultMaxBatchSize is the default WriterOptions.MaxBatchSize.
const DefaultMaxBatchSize = 64 << 20

// MaxBatchSizeLimit is the largest WriterOptions.MaxBatchSize: a batch is one WAL entry, at
// most wal.MaxEntrySize (1 GiB).
const MaxBatchSizeLimit = wal.MaxEntrySize

// DefaultWriterOptions returns the writer defaults documented on each field.
func DefaultWriterOptions() WriterOptions {
	var o WriterOptions
	o.EnsureDefaults()
	return o
}

// EnsureDefaults sets every zero field to its default.
func (o *WriterOptions) EnsureDefaults() {
	if o.MemtableSize == 0 {
		o.MemtableSize = DefaultMemtableSize
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	ensureSSTBuildDefaults(&o.BloomBitsPerKey, &o.BlockSize, &o.Compression)
	if o.MaxImmutableMemtables == 0 {
		o.MaxImmutableMemtables = DefaultMaxImmutableMemtables
	}
	if o.OnFlushError == nil {
		o.OnFlushError = func(error) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.ValueStorage.EnsureDefaults()
	if o.OwnerID == "" {
		o.OwnerID = defaultOwnerID()
	}
	if o.MaxBatchSize == 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	if o.BucketWALMaxObjectSize == 0 {
		o.BucketWALMaxObjectSize = DefaultBucketWALMaxObjectSize
	}
}

func defaultOwnerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "isledb"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// Validate reports every invalid field at once, wrapping ErrInvalidOptions.
func (o WriterOptions) Validate() error {
	var errs []error
	if o.MemtableSize < MinMemtableSize || o.MemtableSize > 4<<30 {
		errs = append(errs, fmt.Errorf("MemtableSize %d: want 1 KiB (MinMemtableSize) to 4 GiB", o.MemtableSize))
	}
	errs = append(errs, validateSSTBuild(o.BloomBitsPerKey, o.BlockSize, o.Compression)...)
	if o.MaxImmutableMemtables < 1 || o.MaxImmutableMemtables > 1024 {
		errs = append(errs, fmt.Errorf("MaxImmutableMemtables %d: want 1 to 1024", o.MaxImmutableMemtables))
	}
	if err := o.ValueStorage.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.WALDir != "" && o.ValueStorage.MaxValueSize > MaxValueSizeWithWAL {
		errs = append(errs, fmt.Errorf("ValueStorage.MaxValueSize %d: a writer with a WALDir takes values of up to %d bytes (MaxValueSizeWithWAL, the WAL's entry limit)", o.ValueStorage.MaxValueSize, MaxValueSizeWithWAL))
	}
	if o.MaxBatchSize < 1<<10 || o.MaxBatchSize > MaxBatchSizeLimit {
		errs = append(errs, fmt.Errorf("MaxBatchSize %d: want 1 KiB to %d (MaxBatchSizeLimit)", o.MaxBatchSize, int64(MaxBatchSizeLimit)))
	}
	if o.WALSyncMode > wal.SyncAsync {
		errs = append(errs, fmt.Errorf("WALSyncMode %d: want wal.SyncStrict, SyncBatchOnly or SyncAsync", o.WALSyncMode))
	}
	if o.WALRecovery > WALRecoveryTruncateAtCorruption {
		errs = append(errs, fmt.Errorf("WALRecovery %d: want WALRecoveryFailOnCorruption or WALRecoveryTruncateAtCorruption", o.WALRecovery))
	}
	if o.TxnReader != nil {
		ro := *o.TxnReader
		if ro.CacheDir == "" {
			ro.CacheDir = "(temporary)"
		}
		ro.EnsureDefaults()
		if err := ro.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("TxnReader: %w", err))
		}
	}
	if o.BucketWAL > BucketWALEachWrite {
		errs = append(errs, fmt.Errorf("BucketWAL %d: want BucketWALOff, BucketWALOnSync or BucketWALEachWrite", o.BucketWAL))
	}
	if o.BucketWAL != BucketWALOff && o.WALDir != "" {
		errs = append(errs, fmt.Errorf("BucketWAL %v with WALDir %q: the bucket WAL replaces the local one, set one of them", o.BucketWAL, o.WALDir))
	}
	if o.BucketWALMaxObjectSize < 64<<10 || o.BucketWALMaxObjectSize > 1<<30 {
		errs = append(errs, fmt.Errorf("BucketWALMaxObjectSize %d: want 64 KiB to 1 GiB", o.BucketWALMaxObjectSize))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

// ReaderOpenOptions configures a Reader.
type ReaderOpenOptions struct {
	// CacheDir is the directory of the reader's disk caches (SSTs and blobs). Required.
	CacheDir string
	// SSTCacheSize bounds the disk cache of whole SST files, in bytes. Default: 1 GiB.
	// It bounds real disk use: an SST open on a file the cache evicted is closed once its
	// current reads and iterators are done, freeing the file's space. An SST larger than
	// SSTCacheSize is read by range, like one of RangeReadMinSSTSize or more; when range
	// reads are not allowed (validation without AllowUnverifiedRangeRead), it is
	// downloaded whole into memory for each use and dropped once that use is done.
	SSTCacheSize int64
	// BlobCacheSize bounds the disk cache of blob values, in bytes. Default: 1 GiB.
	BlobCacheSize int64
	// BlobCacheMaxItemSize: larger blobs are not cached. Default (0): no limit.
	BlobCacheMaxItemSize int64
	// BlockCacheSize bounds the in-memory cache of SST blocks, in bytes. 0 disables it
	// (DefaultReaderOpenOptions sets 64 MiB).
	BlockCacheSize int64
	// AllowUnverifiedRangeRead lets the reader read SSTs by range even though SST
	// checksums are validated, so without checking the whole file's SHA-256 (every block
	// read is still verified by its own checksum). Default: false, so every SST is
	// downloaded whole and verified (DefaultReaderOpenOptions sets it: range reads from
	// RangeReadMinSSTSize on).
	AllowUnverifiedRangeRead bool
	// RangeReadMinSSTSize: SSTs at least this large are read by range (footer, index and
	// filter, then single blocks) instead of downloaded whole. Default: 4 MiB.
	RangeReadMinSSTSize int64
	// ValidateSSTChecksum is the seed API's switch for checking the SHA-256 of every SST
	// downloaded whole against the manifest before use (which disables range reads unless
	// AllowUnverifiedRangeRead) and re-verifying cached copies. Validation is on unless
	// DisableSSTChecksum is set, so the zero value is the safe one; this field is kept for
	// code written against the seed API and setting it changes nothing.
	ValidateSSTChecksum bool
	// DisableSSTChecksum turns SST SHA-256 validation off: SSTs are read by range from
	// RangeReadMinSSTSize on, and cached copies are trusted. Default: false (validated).
	DisableSSTChecksum bool
	// DisableSSTBackgroundFill keeps SSTs read by range out of the SST disk cache. By
	// default an SST read by range (RangeReadMinSSTSize or more) that fits in SSTCacheSize
	// is downloaded whole into the disk cache in the background once used (at its first
	// use when the cache has room, after a few range reads when it would evict others),
	// verified against the manifest's SHA-256, and then read from its local file: a warm
	// reader sends no request per Get. The download's space is reserved in the cache
	// first, so SSTCacheSize still bounds the disk used.
	DisableSSTBackgroundFill bool
	// ReadSSTsInPlace, when the bucket is a local directory (blobstore.NewFile), opens the
	// SSTs that would be read by range straight from the bucket's own files and keeps them
	// open while in use (MaxOpenSSTFiles bounds the idle ones): a block read is then one
	// pread, not one ranged GET (an open, a read and a close of the file). The SSTs are
	// checked as range reads are (each block by its CRC). Ignored on other backends.
	// Default: false. The local store kv sets it.
	ReadSSTsInPlace bool
	// MaxOpenSSTFiles bounds the cached SST files the reader keeps open while unused
	// (each holds a file descriptor); beyond it the least recently used are closed, to be
	// opened (and, with checksums validated, re-verified) again on their next use.
	// Default (0): 1024.
	MaxOpenSSTFiles int
	// PrefetchOnRefreshBytes: each Refresh that finds new SSTs prefetches them in the
	// background, newest first, up to this many bytes of them: each is opened (footer,
	// index, filter) and, if it fits SSTCacheSize, brought whole into the disk cache, so
	// that Gets of fresh data do not wait on the bucket. 0 disables it
	// (DefaultReaderOpenOptions sets 256 MiB); it must not be negative.
	PrefetchOnRefreshBytes int64
	// SSTHashVerifier, when set, checks every SST's signature; unsigned SSTs are refused.
	SSTHashVerifier SSTHashVerifier
	// BlobReadOptions controls blob verification.
	BlobReadOptions config.BlobReadOptions
	// ReadBucketWAL makes the reader read the writer's bucket WAL objects
	// (WriterOptions.BucketWAL) past its manifest: Get, Scan, iterators and a TailingReader
	// see a write once its Sync returned and the reader refreshed, before the write's flush.
	// Each Refresh costs one more GET (of the next WAL object, missing when nothing is
	// new). Snapshots still read their manifest version only. Default: false.
	ReadBucketWAL bool
	// ManifestStorage reads the manifest. Default: the bucket.
	ManifestStorage manifest.Storage
	// Metrics, when set, receives the reader's Prometheus metrics (NewReaderMetrics,
	// DefaultReaderMetrics). Default: nil, no metrics.
	Metrics *ReaderMetrics
	// Logger receives the reader's log: failed refreshes at Warn, each refresh that
	// found a new manifest version at Debug. Default (nil): silent.
	Logger *slog.Logger
}

// The defaults of ReaderOpenOptions.
const (
	DefaultSSTCacheSize        = 1 << 30
	DefaultBlobCacheSize       = 1 << 30
	DefaultBlockCacheSize      = 64 << 20
	DefaultRangeReadMinSSTSize = 4 << 20
	// DefaultPrefetchOnRefreshBytes is what DefaultReaderOpenOptions sets
	// PrefetchOnRefreshBytes to.
	DefaultPrefetchOnRefreshBytes = 256 << 20
)

// DefaultReaderOpenOptions returns the reader defaults, with CacheDir "isledb-cache" in
// the working directory, a 64 MiB block cache, and SST checksums validated (range reads
// allowed, each block verified by its own checksum).
func DefaultReaderOpenOptions() ReaderOpenOptions {
	o := ReaderOpenOptions{
		CacheDir:                 "isledb-cache",
		BlockCacheSize:           DefaultBlockCacheSize,
		ValidateSSTChecksum:      true,
		AllowUnverifiedRangeRead: true,
		PrefetchOnRefreshBytes:   DefaultPrefetchOnRefreshBytes,
	}
	o.EnsureDefaults()
	return o
}

// EnsureDefaults sets zero sizes to their defaults (BlockCacheSize stays 0: disabled).
func (o *ReaderOpenOptions) EnsureDefaults() {
	if o.SSTCacheSize == 0 {
		o.SSTCacheSize = DefaultSSTCacheSize
	}
	if o.BlobCacheSize == 0 {
		o.BlobCacheSize = DefaultBlobCacheSize
	}
	if o.RangeReadMinSSTSize == 0 {
		o.RangeReadMinSSTSize = DefaultRangeReadMinSSTSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every invalid field at once, wrapping ErrInvalidOptions.
func (o ReaderOpenOptions) Validate() error {
	errs := o.problems()
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

// problems lists every invalid field.
func (o ReaderOpenOptions) problems() []error {
	var errs []error
	if o.CacheDir == "" {
		errs = append(errs, errors.New("CacheDir is required"))
	}
	if o.SSTCacheSize < 1<<20 {
		errs = append(errs, fmt.Errorf("SSTCacheSize %d: want at least 1 MiB", o.SSTCacheSize))
	}
	if o.BlobCacheSize < 1<<20 {
		errs = append(errs, fmt.Errorf("BlobCacheSize %d: want at least 1 MiB", o.BlobCacheSize))
	}
	if o.BlobCacheMaxItemSize < 0 || o.BlockCacheSize < 0 || o.RangeReadMinSSTSize < 0 || o.MaxOpenSSTFiles < 0 || o.PrefetchOnRefreshBytes < 0 {
		errs = append(errs, fmt.Errorf("BlobCacheMaxItemSize %d, BlockCacheSize %d, RangeReadMinSSTSize %d, MaxOpenSSTFiles %d, PrefetchOnRefreshBytes %d: must not be negative",
			o.BlobCacheMaxItemSize, o.BlockCacheSize, o.RangeReadMinSSTSize, o.MaxOpenSSTFiles, o.PrefetchOnRefreshBytes))
	}
	return errs
}

// IteratorOptions bounds an Iterator. Both bounds are inclusive; nil is unbounded.
type IteratorOptions struct {
	MinKey []byte
	MaxKey []byte
}

// BlobCacheStats counts the work of a reader's blob cache (Reader.BlobCacheStats). The seed
// API returns the original project's internal.BlobCacheStats; this root type has the same
// fields, and a user can name it.
type BlobCacheStats struct {
	Hits      int64 // reads served from the cache
	Misses    int64 // reads that fetched the blob from the bucket
	Puts      int64 // blobs stored in the cache
	Evictions int64 // blobs evicted to stay within the capacity
	Rejected  int64 // blobs not cached because they exceed the maximum item size
	Bytes     int64 // bytes the cache holds now
	Items     int64 // blobs the cache holds now

	// The fields the original isledb's BlobCacheStats has, for code written against it.
	Size       int64 // bytes the cache holds now (Bytes)
	MaxSize    int64 // the cache's capacity (ReaderOpenOptions.BlobCacheSize)
	EntryCount int64 // blobs the cache holds now (Items)
}

// String formats the counts on one line.
func (s BlobCacheStats) String() string {
	return fmt.Sprintf("hits %d, misses %d, puts %d, evictions %d, rejected %d, %d items, %d bytes",
		s.Hits, s.Misses, s.Puts, s.Evictions, s.Rejected, s.Items, s.Bytes)
}

// SSTCacheStats counts the work of a reader's SST caches.
type SSTCacheStats struct {
	DiskHits      int64 // SSTs opened from the disk cache
	DiskMisses    int64 // SSTs downloaded whole
	DiskEvictions int64 // SST files evicted from the disk cache
	DiskBytes     int64 // bytes in the disk cache
	RangeOpens    int64 // SSTs opened for range reads
	BlockHits     int64 // block cache hits
	BlockMisses   int64 // block cache misses
	BlockBytes    int64 // bytes in the block cache
	OpenReaders   int64 // SSTs open now
	OpenFiles     int64 // SSTs open now on a cached file
	// BackgroundFills counts SSTs read by range that were downloaded whole into the disk
	// cache in the background (see DisableSSTBackgroundFill) and are now read from it.
	BackgroundFills int64
	// RefreshPrefetches counts SSTs prefetched in the background after a Refresh found
	// them (PrefetchOnRefreshBytes).
	RefreshPrefetches int64

	// The fields the original isledb's SSTCacheStats has, for code written against it:
	// they describe the disk cache of SST files.
	Hits       int64 // SSTs opened from the disk cache (DiskHits)
	Misses     int64 // SSTs downloaded whole (DiskMisses)
	Size       int64 // bytes in the disk cache (DiskBytes)
	MaxSize    int64 // the disk cache's capacity (ReaderOpenOptions.SSTCacheSize)
	EntryCount int64 // SST files in the disk cache
}

// String formats the counts on one line.
func (s SSTCacheStats) String() string {
	return fmt.Sprintf("disk: %d hits, %d misses, %d evictions, %d B; range opens %d, background fills %d; blocks: %d hits, %d misses, %d B; %d open (%d on files)",
		s.DiskHits, s.DiskMisses, s.DiskEvictions, s.DiskBytes, s.RangeOpens, s.BackgroundFills, s.BlockHits, s.BlockMisses, s.BlockBytes, s.OpenReaders, s.OpenFiles)
}

// CompactorOptions configures a Compactor. Zero fields take the defaults of
// DefaultCompactorOptions, so the zero value behaves as DefaultCompactorOptions().
type CompactorOptions struct {
	// L0CompactionThreshold: once L0 holds this many SSTs, they are merged into a new sorted
	// run (the newest run). At most max(L0CompactionThreshold, 32) L0 SSTs are merged by one
	// job, the oldest; a cycle runs jobs until L0 is below the threshold. Default: 8.
	L0CompactionThreshold int
	// MinSources and MaxSources bound how many consecutive sorted runs one merge takes.
	// Defaults: 4 and 8.
	MinSources, MaxSources int
	// Leveled, when Leveled.Enabled, replaces the merging of similar runs (MinSources,
	// MaxSources, SizeThreshold) with leveled compaction (LeveledCompaction). Default: off.
	Leveled LeveledCompaction
	// SizeThreshold is the similarity rule for merging runs: a window of consecutive runs
	// qualifies when its largest run is at most SizeThreshold times its smallest (by bytes).
	// Of the qualifying windows, the one rewriting the fewest bytes per run removed is
	// merged. Default: 4.
	SizeThreshold int
	// BloomBitsPerKey sizes the bloom filter of output SSTs. Default: 10. Negative: none.
	BloomBitsPerKey int
	// BlockSize is the target data block size of output SSTs. Default: 4 KiB.
	BlockSize int
	// Compression of output SST blocks: "none", "snappy", "zstd" or "lz4". Default: "snappy".
	Compression string
	// TargetSSTSize: an output SST is cut (between two keys) once it reaches about this
	// size. The compactor holds up to two output SSTs in memory (one being built, one being
	// uploaded). Default: 64 MiB.
	TargetSSTSize int64
	// ValidateSSTChecksum checks the SHA-256 of every input SST, as it is streamed, against
	// the manifest; a mismatch fails the compaction (nothing is published). Every block is
	// checked by its own CRC regardless. This is the seed API's switch: validation is on
	// unless DisableSSTChecksum is set, so the zero value is the safe one, and this field is
	// kept for code written against the seed API (setting it changes nothing).
	ValidateSSTChecksum bool
	// DisableSSTChecksum turns the SHA-256 check of input SSTs off (block CRCs are still
	// checked). Default: false (validated).
	DisableSSTChecksum bool
	// SSTHashVerifier, when set, checks every input SST's signature; unsigned inputs fail
	// the compaction.
	SSTHashVerifier SSTHashVerifier
	// CheckInterval is how often the background loop (Start) runs a compaction cycle.
	// Default: 5s.
	CheckInterval time.Duration
	// OnCompactionStart is called (on the compacting goroutine) before each job. Default:
	// nothing.
	OnCompactionStart func(CompactionJob)
	// OnCompactionEnd is called after each job with its outcome; OutputRun is set if the job
	// was published. Default: nothing.
	OnCompactionEnd func(CompactionJob, error)
	// OwnerID names this compactor in its fence claim. Default: "<hostname>-<pid>".
	OwnerID string
	// GCMarkStorage keeps the pending delete marks and GC checkpoint. Default: the DB's
	// (DBOptions.GCMarkStorage, else the bucket). With BlobGC enabled it must be the
	// storage the writers' DB uses: writers protect the blobs they reuse through it.
	GCMarkStorage manifest.GCMarkStorage

	// Signer, when set, signs every output SST (needed when readers verify signatures).
	Signer SSTHashSigner
	// GCGracePeriod is how long an SST removed from the manifest, or an orphan SST, stays in
	// the bucket before it is deleted, so that readers on an older manifest keep working.
	// It must exceed how long any reader may go without Refresh, and how long a flush may
	// take between uploading its SST and appending it to the manifest. Default: 10 min.
	GCGracePeriod time.Duration
	// GCInterval is how often a compaction cycle that compacted nothing runs a GC pass (a
	// cycle that compacted always runs one). Default: 1 min.
	GCInterval time.Duration
	// BlobGC enables the deletion of blobs no SST references (docs/compaction.md). Default:
	// disabled; when enabled, Interval defaults to 1h and MinAge to 24h. MinAge must be at
	// least GCGracePeriod. Writers take part in blob GC through GCMarkStorage, which must
	// be the one the writers' DB uses.
	BlobGC config.BlobGCOptions
	// Logger receives errors of the background loop, and warnings about GC state found
	// damaged, set aside and rebuilt (docs/compaction.md). Default: discard.
	Logger *slog.Logger
	// Metrics, when set, receives the compactor's Prometheus metrics (NewCompactorMetrics,
	// DefaultCompactorMetrics). Default: nil, no metrics.
	Metrics *CompactorMetrics

	// clock, when set, is the time source of garbage collection (grace periods, GCInterval,
	// blob GC's interval and MinAge) in place of time.Now: a test hook, so that tests and
	// the simulator check GC against a fake clock, never against wall-clock timing.
	clock func() time.Time
}

// The defaults of CompactorOptions.
const (
	DefaultL0CompactionThreshold = 8
	DefaultMinSources            = 4
	DefaultMaxSources            = 8
	DefaultSizeThreshold         = 4
	DefaultTargetSSTSize         = 64 << 20
	DefaultCompactorInterval     = 5 * time.Second
)

// DefaultCompactorOptions returns the defaults documented on each field, with
// ValidateSSTChecksum on.
func DefaultCompactorOptions() CompactorOptions {
	o := CompactorOptions{ValidateSSTChecksum: true}
	o.EnsureDefaults()
	return o
}

// EnsureDefaults sets every zero field to its default.
func (o *CompactorOptions) EnsureDefaults() {
	if o.L0CompactionThreshold == 0 {
		o.L0CompactionThreshold = DefaultL0CompactionThreshold
	}
	if o.MinSources == 0 {
		o.MinSources = DefaultMinSources
	}
	if o.MaxSources == 0 {
		o.MaxSources = max(DefaultMaxSources, o.MinSources)
	}
	if o.SizeThreshold == 0 {
		o.SizeThreshold = DefaultSizeThreshold
	}
	ensureSSTBuildDefaults(&o.BloomBitsPerKey, &o.BlockSize, &o.Compression)
	if o.TargetSSTSize == 0 {
		o.TargetSSTSize = DefaultTargetSSTSize
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultCompactorInterval
	}
	if o.OnCompactionStart == nil {
		o.OnCompactionStart = func(CompactionJob) {}
	}
	if o.OnCompactionEnd == nil {
		o.OnCompactionEnd = func(CompactionJob, error) {}
	}
	if o.OwnerID == "" {
		o.OwnerID = defaultOwnerID()
	}
	o.Leveled.ensureDefaults()
	ensureGCDefaults(&o.GCGracePeriod, &o.GCInterval, &o.BlobGC, &o.Logger)
}

func ensureGCDefaults(grace, interval *time.Duration, blob *config.BlobGCOptions, logger **slog.Logger) {
	if *grace == 0 {
		*grace = DefaultGCGracePeriod
	}
	if *interval == 0 {
		*interval = DefaultGCInterval
	}
	if blob.Interval == 0 {
		blob.Interval = config.DefaultBlobGCInterval
	}
	if blob.MinAge == 0 {
		blob.MinAge = config.DefaultGCMinAge
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
}

func validateGC(grace, interval time.Duration, blob config.BlobGCOptions) []error {
	var errs []error
	if grace < 0 || interval < 0 {
		errs = append(errs, fmt.Errorf("GCGracePeriod %v and GCInterval %v must not be negative", grace, interval))
	}
	if blob.Interval < 0 || blob.MinAge < 0 {
		errs = append(errs, fmt.Errorf("BlobGC Interval %v and MinAge %v must not be negative", blob.Interval, blob.MinAge))
	}
	if blob.Enabled && blob.MinAge < grace {
		// Blob GC assumes a flush attempt uploads its SST within MinAge of writing (or
		// taking back) its blobs; with MinAge >= GCGracePeriod that follows from the grace
		// period's own assumption about flushes (internal/gc/blob.go).
		errs = append(errs, fmt.Errorf("BlobGC MinAge %v: want at least GCGracePeriod %v", blob.MinAge, grace))
	}
	return errs
}

// Validate reports every invalid field at once, wrapping ErrInvalidOptions.
func (o CompactorOptions) Validate() error {
	var errs []error
	if o.L0CompactionThreshold < 1 {
		errs = append(errs, fmt.Errorf("L0CompactionThreshold %d: want at least 1", o.L0CompactionThreshold))
	}
	if o.MinSources < 2 || o.MaxSources < o.MinSources || o.MaxSources > 256 {
		errs = append(errs, fmt.Errorf("MinSources %d, MaxSources %d: want 2 <= MinSources <= MaxSources <= 256", o.MinSources, o.MaxSources))
	}
	if o.SizeThreshold < 1 {
		errs = append(errs, fmt.Errorf("SizeThreshold %d: want at least 1", o.SizeThreshold))
	}
	errs = append(errs, validateSSTBuild(o.BloomBitsPerKey, o.BlockSize, o.Compression)...)
	if o.TargetSSTSize < 1<<10 || o.TargetSSTSize > 4<<30 {
		errs = append(errs, fmt.Errorf("TargetSSTSize %d: want 1 KiB to 4 GiB", o.TargetSSTSize))
	}
	if o.CheckInterval <= 0 {
		errs = append(errs, fmt.Errorf("CheckInterval %v: want more than 0", o.CheckInterval))
	}
	errs = append(errs, o.Leveled.validate()...)
	errs = append(errs, validateGC(o.GCGracePeriod, o.GCInterval, o.BlobGC)...)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

// RetentionCompactorOptions configures a RetentionCompactor. Zero fields take the defaults
// of DefaultRetentionCompactorOptions.
type RetentionCompactorOptions struct {
	// Mode is the policy. Default: CompactByAge.
	Mode RetentionCompactorMode
	// RetentionPeriod is how long data is kept. Default: 7 days.
	RetentionPeriod time.Duration
	// RetentionCount is how many of the newest SSTs CompactByAge always keeps; CompactByTime
	// Window keeps max(1, RetentionCount/10) newest segments. Default: 10.
	RetentionCount int
	// CheckInterval is how often the background loop (Start) runs a cleanup. Default: 1 min.
	CheckInterval time.Duration
	// SegmentDuration is the width of a CompactByTimeWindow segment. Default: 1 hour.
	SegmentDuration time.Duration
	// OnCleanup is called after every successful cleanup. Default: nothing.
	OnCleanup func(CleanupStats)
	// OnCleanupError is called with every failed cleanup. Default: nothing.
	OnCleanupError func(error)
	// GCMarkStorage keeps the pending delete marks and GC checkpoint. Default: the DB's.
	// With BlobGC enabled it must be the storage the writers' DB uses.
	GCMarkStorage manifest.GCMarkStorage

	// OwnerID names this compactor in its fence claim. Default: "<hostname>-<pid>".
	OwnerID string
	// GCGracePeriod is how long a deleted SST stays in the bucket for readers on older
	// manifests (see CompactorOptions.GCGracePeriod). Default: 10 min.
	GCGracePeriod time.Duration
	// GCInterval is how often a cleanup that deleted nothing runs a GC pass. Default: 1 min.
	GCInterval time.Duration
	// BlobGC enables blob garbage collection (see CompactorOptions.BlobGC; MinAge must be
	// at least GCGracePeriod). Default: off.
	BlobGC config.BlobGCOptions
	// Logger receives errors of the background loop, and warnings about GC state found
	// damaged, set aside and rebuilt (docs/compaction.md). Default: discard.
	Logger *slog.Logger

	// clock: see CompactorOptions.clock (GC only: the retention policy reads time.Now).
	clock func() time.Time
}

// The defaults of RetentionCompactorOptions.
const (
	DefaultRetentionPeriod        = 7 * 24 * time.Hour
	DefaultRetentionCount         = 10
	DefaultRetentionCheckInterval = time.Minute
	DefaultSegmentDuration        = time.Hour
)

// DefaultRetentionCompactorOptions returns the defaults documented on each field.
func DefaultRetentionCompactorOptions() RetentionCompactorOptions {
	var o RetentionCompactorOptions
	o.EnsureDefaults()
	return o
}

// EnsureDefaults sets every zero field to its default.
func (o *RetentionCompactorOptions) EnsureDefaults() {
	if o.RetentionPeriod == 0 {
		o.RetentionPeriod = DefaultRetentionPeriod
	}
	if o.RetentionCount == 0 {
		o.RetentionCount = DefaultRetentionCount
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultRetentionCheckInterval
	}
	if o.SegmentDuration == 0 {
		o.SegmentDuration = DefaultSegmentDuration
	}
	if o.OnCleanup == nil {
		o.OnCleanup = func(CleanupStats) {}
	}
	if o.OnCleanupError == nil {
		o.OnCleanupError = func(error) {}
	}
	if o.OwnerID == "" {
		o.OwnerID = defaultOwnerID()
	}
	ensureGCDefaults(&o.GCGracePeriod, &o.GCInterval, &o.BlobGC, &o.Logger)
}

// Validate reports every invalid field at once, wrapping ErrInvalidOptions.
func (o RetentionCompactorOptions) Validate() error {
	var errs []error
	if o.Mode != CompactByAge && o.Mode != CompactByTimeWindow {
		errs = append(errs, fmt.Errorf("Mode %v: want CompactByAge or CompactByTimeWindow", o.Mode))
	}
	if o.RetentionPeriod <= 0 || o.CheckInterval <= 0 || o.SegmentDuration <= 0 {
		errs = append(errs, fmt.Errorf("RetentionPeriod %v, CheckInterval %v, SegmentDuration %v: want more than 0",
			o.RetentionPeriod, o.CheckInterval, o.SegmentDuration))
	}
	if o.RetentionCount < 0 {
		errs = append(errs, fmt.Errorf("RetentionCount %d: must not be negative", o.RetentionCount))
	}
	errs = append(errs, validateGC(o.GCGracePeriod, o.GCInterval, o.BlobGC)...)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

// TxnOptions configures a transaction.
type TxnOptions struct {
	// Serializable makes Commit check what the transaction read, not only what it wrote:
	// it fails with ErrConflict if any key it read (Get) or any key in a range it scanned
	// (Scan) was written by another commit after it began. Committed serializable
	// transactions are then equivalent to running them one at a time in commit order.
	// Default (false): snapshot isolation, where only the keys the transaction wrote are
	// checked (first committer wins).
	Serializable bool
}

// ChangeOptions selects a change feed.
type ChangeOptions struct {
	// FromSeq is the first sequence number to deliver; 0 means from the beginning. To
	// resume a feed, pass the last delivered Seq + 1.
	FromSeq uint64
	// MinKey and MaxKey restrict the feed to keys in [MinKey, MaxKey] (nil: unbounded).
	MinKey []byte
	MaxKey []byte
	// PollInterval is how often TailChanges looks for new writes when no refresh wakes
	// it. Default: the reader's RefreshInterval.
	PollInterval time.Duration
}

// The SST-building options the writer and the compactor share (BloomBitsPerKey, BlockSize,
// Compression on WriterOptions and CompactorOptions): one set of defaults and one
// validation; sstWriterOptions (sst.go) maps them onto the SST writer's.

func ensureSSTBuildDefaults(bloomBitsPerKey, blockSize *int, compression *string) {
	if *bloomBitsPerKey == 0 {
		*bloomBitsPerKey = DefaultBloomBitsPerKey
	}
	if *blockSize == 0 {
		*blockSize = DefaultBlockSize
	}
	if *compression == "" {
		*compression = DefaultCompression
	}
}

func validateSSTBuild(bloomBitsPerKey, blockSize int, compression string) []error {
	var errs []error
	if bloomBitsPerKey > 64 {
		errs = append(errs, fmt.Errorf("BloomBitsPerKey %d: want at most 64", bloomBitsPerKey))
	}
	if blockSize < 256 || blockSize > 16<<20 {
		errs = append(errs, fmt.Errorf("BlockSize %d: want 256 B to 16 MiB", blockSize))
	}
	if _, err := sstable.ParseCompression(compression); err != nil {
		errs = append(errs, fmt.Errorf("Compression %q: want none, snappy, zstd or lz4", compression))
	}
	return errs
}

// TailingReaderOpenOptions configures a TailingReader.
type TailingReaderOpenOptions struct {
	// RefreshInterval is how often the background loop (Start) refreshes the manifest
	// while new versions keep coming. Default: 1s.
	RefreshInterval time.Duration
	// IdleRefreshInterval is the longest the background loop waits between refreshes while
	// they find nothing new. Once refreshes have found nothing for about
	// IdleRefreshInterval (that many RefreshIntervals in a row), the wait doubles after
	// each, from RefreshInterval up to IdleRefreshInterval; a refresh that finds a new
	// version goes back to RefreshInterval. An idle tailer thus costs one GET per
	// IdleRefreshInterval (0.125 requests/s with the defaults), and the first write after
	// a quiet spell waits up to IdleRefreshInterval to be seen. Default: 8 ×
	// RefreshInterval. A value below RefreshInterval means RefreshInterval (no backing
	// off).
	IdleRefreshInterval time.Duration
	// OnRefresh is called after every successful background refresh. Default: nothing.
	OnRefresh func()
	// OnRefreshError is called with every failed background refresh. Default: nothing.
	OnRefreshError func(error)
	// ReaderOptions configures the underlying Reader.
	ReaderOptions ReaderOpenOptions
}

// DefaultTailingReaderOpenOptions returns a 1s refresh interval and the default reader
// options.
func DefaultTailingReaderOpenOptions() TailingReaderOpenOptions {
	o := TailingReaderOpenOptions{RefreshInterval: DefaultTailRefreshInterval, ReaderOptions: DefaultReaderOpenOptions()}
	o.EnsureDefaults()
	return o
}

// DefaultTailRefreshInterval is the tailing reader's default RefreshInterval.
const DefaultTailRefreshInterval = time.Second

// DefaultTailIdleFactor is the default IdleRefreshInterval as a multiple of
// RefreshInterval.
const DefaultTailIdleFactor = 8

// EnsureDefaults sets every zero field to its default, the reader options included.
func (o *TailingReaderOpenOptions) EnsureDefaults() {
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultTailRefreshInterval
	}
	if o.IdleRefreshInterval == 0 {
		o.IdleRefreshInterval = DefaultTailIdleFactor * o.RefreshInterval
	}
	if o.OnRefresh == nil {
		o.OnRefresh = func() {}
	}
	if o.OnRefreshError == nil {
		o.OnRefreshError = func(error) {}
	}
	o.ReaderOptions.EnsureDefaults()
}

// Validate reports every invalid field at once (the reader options' too), wrapping
// ErrInvalidOptions.
func (o TailingReaderOpenOptions) Validate() error {
	var errs []error
	if o.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("RefreshInterval %v: must not be negative", o.RefreshInterval))
	}
	if o.IdleRefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("IdleRefreshInterval %v: must not be negative", o.IdleRefreshInterval))
	}
	for _, err := range o.ReaderOptions.problems() {
		errs = append(errs, fmt.Errorf("ReaderOptions.%w", err))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

// TailOptions bounds and paces Tail.
type TailOptions struct {
	// MinKey and MaxKey bound the keys tailed, inclusive; nil is unbounded.
	MinKey []byte
	MaxKey []byte
	// StartAfterKey resumes a tail: only keys above it are emitted.
	StartAfterKey []byte
	// PollInterval is how often Tail looks for new keys when no refresh wakes it.
	// Default: the reader's RefreshInterval.
	PollInterval time.Duration
}
