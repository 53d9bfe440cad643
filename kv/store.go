package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/wal"
)

// The layout of a store's directory.
const (
	lockFile    = "LOCK"  // the exclusive lock (lock_unix.go)
	formatFile  = "KV"    // the format marker, formatMarker
	dataDir     = "data"  // the engine's file bucket: manifest, SSTs, blobs
	walDir      = "wal"   // the writer's write-ahead log
	cacheDir    = "cache" // the reader's disk cache (blob values)
	txnCacheDir = "txn"   // in cacheDir: the transactions' reader's disk cache
	bucketName  = "kv"    // the bucket prefix inside dataDir
	ownerID     = "kv"    // the writer's and compactor's fence owner
	formatLine  = "isledb-kv 1\n"
)

// Store is a typed key-value store on a local directory, built on the isledb engine: a
// file bucket holds the manifest and the SSTs, a writer with a write-ahead log takes the
// writes, a compactor merges SSTs in the background and a reader serves reads. One Store
// at a time may have a directory open (ErrLocked). Its methods are safe for concurrent
// use; after Close they fail with ErrStoreClosed.
type Store struct {
	opts   Options
	lock   *dirLock
	bucket *blobstore.Store
	db     *isledb.DB
	w      *isledb.Writer
	c      *isledb.Compactor
	r      *isledb.Reader

	// Reads look in the writer's memtables first, then in the reader, which must be at a
	// manifest version holding every write the writer reported flushed (readerFor).
	readerMu  sync.Mutex
	readerSeq atomic.Uint64 // the reader's version holds every write up to it
	stale     atomic.Bool   // a compaction changed the manifest since the last refresh

	serial sync.Mutex // WALSyncPerWrite: one write at a time, so none shares an fsync
	room   sync.Mutex // one writer at a time waits out backpressure

	// ops counts the operations in progress; Close sets closed, then waits for them. Not
	// an RWMutex: a scan callback's own calls must fail with ErrStoreClosed once Close
	// waits, not queue behind it.
	opsMu  sync.Mutex
	opsCnd *sync.Cond
	ops    int
	closed bool

	stats struct{ reads, writes, deletes, scans atomic.Int64 }
}

// Open opens the store in opts.Dir, creating it if needed. It applies EnsureDefaults and
// Validate, locks the directory, replays the write-ahead log (writes acknowledged before
// a crash are back) and starts the background flush and compaction. A damaged log fails
// Open with ErrCorruptedData (nothing is changed).
func Open(opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("kv: open: %w", err)
	}
	lock, err := lockDir(filepath.Join(opts.Dir, lockFile))
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, lock: lock}
	s.opsCnd = sync.NewCond(&s.opsMu)
	if err := s.open(); err != nil {
		s.shutdown()
		return nil, err
	}
	return s, nil
}

func (s *Store) open() error {
	ctx := context.Background()
	o := s.opts
	if err := checkFormat(o.Dir); err != nil {
		return err
	}
	var err error
	if s.bucket, err = blobstore.NewFile(ctx, filepath.Join(o.Dir, dataDir), bucketName); err != nil {
		return fmt.Errorf("kv: open: %w", err)
	}
	if s.db, err = isledb.OpenDB(ctx, s.bucket, isledb.DBOptions{}); err != nil {
		return translate("open", err)
	}
	if s.w, err = s.db.OpenWriter(ctx, writerOptions(o)); err != nil {
		return translate("open writer", err)
	}
	co := compactorOptions(o)
	co.OnCompactionEnd = func(_ isledb.CompactionJob, err error) {
		if err == nil {
			s.stale.Store(true)
		}
	}
	if s.c, err = s.db.OpenCompactor(ctx, co); err != nil {
		return translate("open compactor", err)
	}
	if s.r, err = isledb.OpenReader(ctx, s.bucket, readerOptions(o)); err != nil {
		return translate("open reader", err)
	}
	s.readerSeq.Store(s.w.UnflushedStats().FlushedSeq)
	s.c.Start()
	return nil
}

// checkFormat writes the format marker of a new directory, or checks an existing one's.
func checkFormat(dir string) error {
	p := filepath.Join(dir, formatFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(p, []byte(formatLine), 0o644); err != nil {
			return fmt.Errorf("kv: open: write format marker: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("kv: open: %w", err)
	}
	if string(b) != formatLine {
		return fmt.Errorf("kv: open: %w: %s holds %q, want %q", ErrCorruptedData, p, b, formatLine)
	}
	return nil
}

// writerOptions maps the store's options onto the engine writer's.
func writerOptions(o Options) isledb.WriterOptions {
	wo := isledb.WriterOptions{
		MemtableSize:          o.MemtableSize,
		FlushInterval:         o.FlushInterval,
		BloomBitsPerKey:       bloomBitsPerKey(o.BloomFPRate),
		BlockSize:             o.BlockSize,
		Compression:           compression(o.CompressionLevel),
		MaxImmutableMemtables: MaxImmutableMemtables,
		OwnerID:               ownerID,
		WALDir:                filepath.Join(o.Dir, walDir),
		WALSyncMode:           wal.SyncStrict,
	}
	if o.DisableBloomFilter {
		wo.BloomBitsPerKey = -1
	}
	// Transactions read through a reader of their own (opened by the first Begin): the
	// store's reader settings, with its caches in Dir/cache/txn (and a block cache of
	// its own of BlockCacheSize).
	tr := readerOptions(o)
	tr.CacheDir = filepath.Join(o.Dir, cacheDir, txnCacheDir)
	wo.TxnReader = &tr
	if o.WALSyncMode == WALSyncNone {
		wo.WALSyncMode = wal.SyncAsync
	}
	return wo
}

// compactorOptions maps the store's options onto the engine compactor's.
func compactorOptions(o Options) isledb.CompactorOptions {
	co := isledb.DefaultCompactorOptions()
	co.L0CompactionThreshold = o.L0CompactionTrigger
	co.CheckInterval = o.CompactionInterval
	co.BloomBitsPerKey = bloomBitsPerKey(o.BloomFPRate)
	if o.DisableBloomFilter {
		co.BloomBitsPerKey = -1
	}
	co.BlockSize = o.BlockSize
	co.Compression = compression(o.CompressionLevel)
	co.DisableSSTChecksum = !o.VerifyChecksums
	co.OwnerID = ownerID
	// The compactor holds up to two output SSTs in memory: keep them near the memtable's
	// scale (4 memtables, 2 to 64 MiB; LowMemoryOptions: 4 MiB).
	co.TargetSSTSize = min(max(4*o.MemtableSize, 2<<20), 64<<20)
	switch o.CompactionStyle {
	case CompactionStyleSizeTiered:
		co.SizeThreshold = o.LevelSizeMultiplier
	case CompactionStyleLeveled:
		co.Leveled = isledb.LeveledCompaction{
			Enabled:             true,
			BaseLevelSize:       int64(o.L0CompactionTrigger) * o.MemtableSize * int64(o.LevelSizeMultiplier),
			LevelSizeMultiplier: o.LevelSizeMultiplier,
			MaxLevels:           o.MaxLevels,
		}
	}
	return co
}

// readerOptions maps the store's options onto the engine reader's. Every SST is read by
// range straight from the data directory (no copy in the cache), each block checked by
// its CRC and kept in the block cache.
func readerOptions(o Options) isledb.ReaderOpenOptions {
	return isledb.ReaderOpenOptions{
		CacheDir:                 filepath.Join(o.Dir, cacheDir),
		SSTCacheSize:             1 << 20,
		BlobCacheSize:            max(o.BlockCacheSize, 1<<20),
		BlockCacheSize:           o.BlockCacheSize,
		RangeReadMinSSTSize:      1,
		DisableSSTBackgroundFill: true,
		ReadSSTsInPlace:          true,
		DisableSSTChecksum:       !o.VerifyChecksums,
		AllowUnverifiedRangeRead: true,
	}
}

// enter starts an operation: it fails once the store is closed. Call leave when done.
func (s *Store) enter() error {
	s.opsMu.Lock()
	defer s.opsMu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.ops++
	return nil
}

func (s *Store) leave() {
	s.opsMu.Lock()
	if s.ops--; s.ops == 0 {
		s.opsCnd.Broadcast()
	}
	s.opsMu.Unlock()
}

// readerFor returns the reader at a manifest version holding every write up to flushed
// (and every compaction already published), refreshing it if needed.
func (s *Store) readerFor(flushed uint64) (*isledb.Reader, error) {
	if s.readerSeq.Load() >= flushed && !s.stale.Load() {
		return s.r, nil
	}
	s.readerMu.Lock()
	defer s.readerMu.Unlock()
	if s.readerSeq.Load() >= flushed && !s.stale.Load() {
		return s.r, nil
	}
	// Cleared before the refresh: a compaction published during it sets it again.
	s.stale.Store(false)
	if err := s.r.Refresh(context.Background()); err != nil {
		s.stale.Store(true)
		return nil, translate("refresh", err)
	}
	if flushed > s.readerSeq.Load() {
		s.readerSeq.Store(flushed)
	}
	return s.r, nil
}

// Put stores value under key, replacing any earlier value. It returns once the write is
// acknowledged per WALSyncMode (by default: on disk); a Get right after sees it. A
// tombstone deletes the key. A value of an unknown type fails with ErrInvalidValue.
func (s *Store) Put(key []byte, value Value) error {
	if !value.Type.Valid() {
		return fmt.Errorf("kv: put: %w: %v", ErrInvalidValue, value.Type)
	}
	if value.IsTombstone() {
		return s.Delete(key)
	}
	if len(key) == 0 {
		return fmt.Errorf("kv: put: %w", ErrEmptyKey)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	var buf [64]byte
	enc := AppendEncodedValue(buf[:0], value)
	s.stats.writes.Add(1)
	return s.write("put", func() error { return s.w.Put(key, enc) })
}

// Delete deletes key. Deleting a key that does not exist is not an error.
func (s *Store) Delete(key []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("kv: delete: %w", ErrEmptyKey)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.stats.deletes.Add(1)
	return s.write("delete", func() error { return s.w.Delete(key) })
}

// write runs a writer call, serialized under WALSyncPerWrite, waiting out backpressure:
// when MaxImmutableMemtables memtables wait for their flush, the write blocks until they
// are flushed.
func (s *Store) write(op string, fn func() error) error {
	if s.opts.WALSyncMode == WALSyncPerWrite {
		s.serial.Lock()
		defer s.serial.Unlock()
	}
	for {
		err := fn()
		if !errors.Is(err, isledb.ErrBackpressure) {
			return translate(op, err)
		}
		s.room.Lock()
		err = fn()
		if errors.Is(err, isledb.ErrBackpressure) {
			// The memtables are full: flushing them makes room (the active one is full
			// too, or the write would have gone in).
			err = s.w.Flush(context.Background())
			s.room.Unlock()
			if err != nil {
				return translate(op, err)
			}
			continue
		}
		s.room.Unlock()
		return translate(op, err)
	}
}

// Get returns the value stored under key, or an error matching ErrKeyNotFound.
func (s *Store) Get(key []byte) (Value, error) {
	if err := s.enter(); err != nil {
		return Value{}, err
	}
	defer s.leave()
	s.stats.reads.Add(1)
	raw, err := s.getRaw(key)
	if err != nil {
		return Value{}, err
	}
	v, err := decodeStored(raw)
	if err != nil {
		return Value{}, fmt.Errorf("kv: get %q: %w: %w", key, ErrCorruptedData, err)
	}
	return v, nil
}

// getRaw returns the encoded value of key: the writer's unflushed write if it has one,
// else the manifest's.
func (s *Store) getRaw(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, fmt.Errorf("kv: get: %w", ErrEmptyKey)
	}
	e, found, flushed, err := s.w.GetUnflushed(key)
	if err != nil {
		return nil, translate("get", err)
	}
	if found {
		if e.Deleted {
			return nil, fmt.Errorf("kv: get %q: %w", key, ErrKeyNotFound)
		}
		return e.Value, nil
	}
	r, err := s.readerFor(flushed)
	if err != nil {
		return nil, err
	}
	v, ok, err := r.Get(context.Background(), key)
	if err != nil {
		return nil, translate(fmt.Sprintf("get %q", key), err)
	}
	if !ok {
		return nil, fmt.Errorf("kv: get %q: %w", key, ErrKeyNotFound)
	}
	return v, nil
}

// Flush writes every buffered write to an SST and returns once it is in the manifest;
// the write-ahead log records it covered are dropped.
func (s *Store) Flush() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return translate("flush", s.w.Flush(context.Background()))
}

// Compact flushes buffered writes, then merges every L0 SST into the sorted runs now
// (L0 into L1), whatever L0CompactionTrigger says; reads afterwards look in fewer SSTs.
// Deeper merges follow in the background as CompactionStyle decides.
func (s *Store) Compact() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	ctx := context.Background()
	if err := s.w.Flush(ctx); err != nil {
		return translate("compact: flush", err)
	}
	if err := s.c.CompactL0(ctx); err != nil {
		return translate("compact", err)
	}
	return nil
}

// Close waits for the operations in progress, flushes buffered writes, stops the
// background work and releases the directory. Calls made once Close has begun fail with
// ErrStoreClosed; calling Close again does nothing. A scan callback must not call Close
// (Close would wait for that scan).
func (s *Store) Close() error {
	s.opsMu.Lock()
	if s.closed {
		s.opsMu.Unlock()
		return nil
	}
	s.closed = true
	for s.ops > 0 {
		s.opsCnd.Wait()
	}
	s.opsMu.Unlock()
	return s.shutdown()
}

// shutdown closes whatever Open opened, the writer first (it flushes), and the lock last.
func (s *Store) shutdown() error {
	var errs []error
	if s.c != nil {
		s.c.Stop()
	}
	if s.w != nil {
		errs = append(errs, translate("close writer", s.w.Close()))
	}
	if s.c != nil {
		errs = append(errs, s.c.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.bucket != nil {
		errs = append(errs, s.bucket.Close())
	}
	errs = append(errs, s.lock.release())
	return errors.Join(errs...)
}
