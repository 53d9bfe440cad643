package isledb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/diskcache"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/internal/tablecache"
	"github.com/isledb/isledb/manifest"
)

// Reader reads the database at one manifest version, which Refresh advances. Readers never
// write to the bucket. A Reader is safe for concurrent use.
type Reader struct {
	store  *blobstore.Store
	opts   ReaderOpenOptions
	ms     *manifest.Store
	tables *tablecache.Cache
	blocks *sstable.LRUCache // nil when BlockCacheSize is 0
	ssts   *diskcache.Cache
	blobs  *diskcache.Cache

	cur       atomic.Pointer[manifest.Manifest]
	walView   atomic.Pointer[walOverlay] // ReadBucketWAL only (reader_bucketwal.go)
	refreshMu sync.Mutex
	snaps     snapshotSet // the open snapshots (snapshot.go)
	closed    atomic.Bool
	blobStats struct{ hits, misses atomic.Int64 }

	prefetch   refreshPrefetcher // reader_prefetch.go
	prefetched atomic.Int64      // SSTs prefetched after refreshes

	// onVersion, if set (before first use), is called after Refresh installs a newer
	// version, including the versions it installs before reaching the end of the log.
	onVersion func()
}

// OpenReader replays the manifest and returns a reader at its newest version.
func OpenReader(ctx context.Context, store *blobstore.Store, opts ReaderOpenOptions) (*Reader, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidOptions)
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{store: store, opts: opts}
	r.prefetch.init()
	var err error
	if r.ssts, err = diskcache.Open(filepath.Join(opts.CacheDir, "sst"), diskcache.Options{
		Capacity: opts.SSTCacheSize,
		// An SST open on an evicted file holds its disk space until closed: close it once
		// its users are done, so that the disk held for SSTs stays within SSTCacheSize.
		OnEvict: func(name string) {
			if t := r.tables; t != nil {
				t.FileEvicted(name)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("isledb: open reader: sst cache: %w", err)
	}
	if r.blobs, err = diskcache.Open(filepath.Join(opts.CacheDir, "blob"), diskcache.Options{Capacity: opts.BlobCacheSize, MaxItemSize: opts.BlobCacheMaxItemSize}); err != nil {
		_ = r.ssts.Close()
		return nil, fmt.Errorf("isledb: open reader: blob cache: %w", err)
	}
	if opts.BlockCacheSize > 0 {
		r.blocks = sstable.NewLRUCache(opts.BlockCacheSize)
	}
	tco := tablecache.Options{
		Store:            store,
		Files:            fileCache{r.ssts},
		RangeReadMinSize: opts.RangeReadMinSSTSize,
		// An SST larger than the cache would be held whole in memory: read it by range.
		FileCacheCapacity: opts.SSTCacheSize,
		RequireWholeFile:  !opts.DisableSSTChecksum && !opts.AllowUnverifiedRangeRead,
		RecheckCached:     !opts.DisableSSTChecksum,
		BackgroundFill:    !opts.DisableSSTBackgroundFill,
		MaxOpenFiles:      opts.MaxOpenSSTFiles,
		InPlace:           opts.ReadSSTsInPlace,
	}
	if r.blocks != nil {
		tco.Blocks = r.blocks
	}
	tco.VerifySignature = signatureVerifier(opts.SSTHashVerifier)
	r.tables = tablecache.New(tco)
	mstorage := opts.ManifestStorage
	if mstorage == nil {
		mstorage = manifest.NewBlobStorage(store)
	}
	r.ms = manifest.NewStoreWithStorage(mstorage)
	m, err := r.ms.Replay(ctx)
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("isledb: open reader: replay manifest: %w", err)
	}
	r.cur.Store(m)
	if opts.ReadBucketWAL {
		if err := r.refreshWAL(ctx, m, true); err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("isledb: open reader: bucket WAL: %w", err)
		}
	}
	opts.Metrics.attach(r)
	return r, nil
}

// fileCache adapts the disk cache to what the table cache needs.
type fileCache struct{ c *diskcache.Cache }

func (f fileCache) Open(name string) (tablecache.File, bool, error) {
	h, ok, err := f.c.Get(name)
	if err != nil || !ok {
		return nil, false, err
	}
	return h, true, nil
}
func (f fileCache) Create(name string, size int64) (tablecache.FileWriter, error) {
	return f.c.Create(name, size)
}
func (f fileCache) Remove(name string)        { _ = f.c.Remove(name) }
func (f fileCache) Touch(name string)         { f.c.Touch(name) }
func (f fileCache) Contains(name string) bool { return f.c.Contains(name) }
func (f fileCache) Room() int64               { return f.c.Room() }

// Get returns the newest visible value of key. found is false if the key was never
// written, was deleted, or has expired.
func (r *Reader) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	if r.closed.Load() {
		return nil, false, ErrClosed
	}
	defer r.observeGet(&found, &err)
	m, now := r.cur.Load(), time.Now().UnixNano()
	if v, found, ok, err := r.walGet(ctx, m, now, key); ok || err != nil {
		return v, found, err
	}
	return r.get(ctx, m, now, key)
}

// get is Get at manifest version m, judging expiry at now (unix nanoseconds).
func (r *Reader) get(ctx context.Context, m *manifest.Manifest, now int64, key []byte) (value []byte, found bool, err error) {
	e, ok, err := r.lookup(ctx, m, key)
	if err != nil || !ok {
		return nil, false, err
	}
	if e.Kind == base.KindDelete || (e.Expiry != 0 && expired(e.Expiry, now)) {
		return nil, false, nil
	}
	if e.Kind == base.KindBlobRef {
		v, err := r.blobValue(ctx, e.Value)
		if err != nil {
			return nil, false, fmt.Errorf("isledb: get %q: %w", key, err)
		}
		return v, true, nil
	}
	return bytes.Clone(e.Value), true, nil
}

func expired(expiry, now int64) bool { return expiry != 0 && expiry <= now }

// lookup finds the newest entry for key: L0 newest first, then each sorted run (newer
// runs first), stopping at the first SST that holds the key.
func (r *Reader) lookup(ctx context.Context, m *manifest.Manifest, key []byte) (sstable.Entry, bool, error) {
	for i := range m.L0SSTs {
		sst := &m.L0SSTs[i]
		if bytes.Compare(key, sst.MinKey) < 0 || bytes.Compare(key, sst.MaxKey) > 0 {
			continue
		}
		if e, ok, err := r.getFrom(ctx, sst, key); err != nil || ok {
			return e, ok, err
		}
	}
	for ri := range m.SortedRuns {
		ssts := m.SortedRuns[ri].SSTs
		i := sort.Search(len(ssts), func(i int) bool { return bytes.Compare(ssts[i].MaxKey, key) >= 0 })
		if i == len(ssts) || bytes.Compare(key, ssts[i].MinKey) < 0 {
			continue
		}
		if e, ok, err := r.getFrom(ctx, &ssts[i], key); err != nil || ok {
			return e, ok, err
		}
	}
	return sstable.Entry{}, false, nil
}

func (r *Reader) getFrom(ctx context.Context, sst *manifest.SSTMeta, key []byte) (sstable.Entry, bool, error) {
	h, err := r.tables.Get(ctx, sst)
	if err != nil {
		return sstable.Entry{}, false, fmt.Errorf("isledb: get %q: %w", key, err)
	}
	defer h.Release()
	e, ok, err := h.Reader().Get(ctx, key)
	if err != nil {
		return sstable.Entry{}, false, fmt.Errorf("isledb: get %q from sst %s: %w", key, sst.ID, err)
	}
	return e, ok, nil
}

// blobValue returns the value a blob reference names, from the cache or the bucket.
// A blob fetched from the bucket is always verified against its reference (length and
// SHA-256) before it is cached. A cached one is checked before it is returned: its length
// always, its SHA-256 unless BlobReadOptions.SkipCachedBlobHash (VerifyBlobsOnRead forces
// it). A cached copy that fails is dropped and fetched again; a bucket copy that fails is
// an error matching ErrCorruption.
func (r *Reader) blobValue(ctx context.Context, encoded []byte) ([]byte, error) {
	ref, err := blobref.Decode(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruption, err)
	}
	id := ref.ID()
	hashCached := r.opts.BlobReadOptions.VerifyBlobsOnRead || !r.opts.BlobReadOptions.SkipCachedBlobHash
	var bad error
	// A bad cached copy is removed, so the next attempt fetches from the bucket; the third
	// is only reached if the cache keeps returning bad copies (the file is being damaged
	// as fast as it is replaced).
	for range 3 {
		fetched := false // this call read the blob from the bucket (not the cache)
		data, err := r.blobs.GetOrFetch(ctx, id, func(ctx context.Context) ([]byte, error) {
			fetched = true
			data, _, err := r.store.Read(ctx, r.store.BlobPath(id))
			if err != nil {
				return nil, fmt.Errorf("read blob %s: %w", id, err)
			}
			if err := ref.Verify(data); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrCorruption, err)
			}
			return data, nil
		})
		if err != nil {
			return nil, err
		}
		if fetched {
			r.blobStats.misses.Add(1)
			return data, nil
		}
		// From the cache (or from a fetch another caller ran, verified by it).
		if bad = checkCachedBlob(ref, data, hashCached); bad == nil {
			r.blobStats.hits.Add(1)
			return data, nil
		}
		_ = r.blobs.Remove(id)
	}
	return nil, fmt.Errorf("%w: cached copy: %w", ErrCorruption, bad)
}

// checkCachedBlob checks a blob read from the cache against its reference: the length,
// and the SHA-256 if hash is set.
func checkCachedBlob(ref blobref.Ref, data []byte, hash bool) error {
	if int64(len(data)) != ref.Length {
		return fmt.Errorf("%w: cached blob %s is %d bytes, want %d", blobref.ErrCorrupt, ref.ID(), len(data), ref.Length)
	}
	if hash {
		return ref.Verify(data)
	}
	return nil
}

// Scan returns every visible key-value pair with minKey <= key <= maxKey (nil bounds are
// unbounded), in key order.
func (r *Reader) Scan(ctx context.Context, minKey, maxKey []byte) ([]KV, error) {
	return r.ScanLimit(ctx, minKey, maxKey, 0)
}

// ScanLimit is Scan returning at most limit pairs; limit <= 0 means no limit.
func (r *Reader) ScanLimit(ctx context.Context, minKey, maxKey []byte, limit int) ([]KV, error) {
	it, err := r.NewIterator(ctx, IteratorOptions{MinKey: minKey, MaxKey: maxKey})
	if err != nil {
		return nil, err
	}
	return scanIter(it, limit)
}

// scanIter collects at most limit pairs (limit <= 0: all) of it, and closes it.
func scanIter(it *Iterator, limit int) ([]KV, error) {
	var out []KV
	for (limit <= 0 || len(out) < limit) && it.Next() {
		out = append(out, KV{Key: bytes.Clone(it.Key()), Value: bytes.Clone(it.Value())})
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// Refresh moves the reader to the newest manifest: new flushes become visible, and SSTs
// that compaction removed are closed once no iterator uses them. When nothing is new it
// costs one small read. With PrefetchOnRefreshBytes, the new SSTs are then prefetched in
// the background (see WaitForPrefetch).
func (r *Reader) Refresh(ctx context.Context) (err error) {
	if r.closed.Load() {
		return ErrClosed
	}
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	old := r.cur.Load()
	defer r.observeRefresh(old.LogSeq, &err)
	// Each version proven part of the log is installed as soon as it is read, one round
	// trip before the end of the log is found.
	var gone []string // SSTs of the versions replaced
	install := func(m *manifest.Manifest) {
		if prev := r.cur.Swap(m); prev != m {
			gone = append(gone, prev.AllSSTIDs()...)
			if r.onVersion != nil {
				r.onVersion()
			}
		}
	}
	m, err := r.ms.ReplayFromEach(ctx, old, install)
	if err == nil {
		install(m)
	}
	r.evictUnused(gone)
	if err != nil {
		return fmt.Errorf("isledb: refresh: %w", err)
	}
	if r.opts.ReadBucketWAL {
		if err := r.refreshWAL(ctx, m, m != old); err != nil {
			return fmt.Errorf("isledb: refresh: bucket WAL: %w", err)
		}
	}
	if m != old {
		r.prefetchNew(old, m)
	}
	return nil
}

// Manifest returns a copy of the reader's manifest version.
func (r *Reader) Manifest() *Manifest { return r.cur.Load().Clone() }

// ManifestUnsafe returns the reader's manifest version without copying; it must not be
// modified.
func (r *Reader) ManifestUnsafe() *Manifest { return r.cur.Load() }

// BlobCacheStats returns the blob cache's counters.
func (r *Reader) BlobCacheStats() BlobCacheStats {
	s := r.blobs.Stats()
	return BlobCacheStats{
		Hits: r.blobStats.hits.Load(), Misses: r.blobStats.misses.Load(), Puts: s.Puts,
		Evictions: s.Evictions, Rejected: s.Rejected, Bytes: s.Bytes, Items: s.Items,
		Size: s.Bytes, MaxSize: s.Capacity, EntryCount: s.Items,
	}
}

// SSTCacheStats returns the SST caches' counters.
func (r *Reader) SSTCacheStats() SSTCacheStats {
	t := r.tables.Stats()
	d := r.ssts.Stats()
	s := SSTCacheStats{
		DiskHits: t.FileHits, DiskMisses: t.FileMisses, DiskEvictions: d.Evictions, DiskBytes: d.Bytes,
		RangeOpens: t.RangeOpens, OpenReaders: t.Open, BackgroundFills: t.Fills, OpenFiles: t.OpenFiles,
		RefreshPrefetches: r.prefetched.Load(),
		Hits:              t.FileHits, Misses: t.FileMisses, Size: d.Bytes, MaxSize: d.Capacity, EntryCount: d.Items,
	}
	if r.blocks != nil {
		b := r.blocks.Metrics()
		s.BlockHits, s.BlockMisses, s.BlockBytes = int64(b.Hits), int64(b.Misses), b.Size
	}
	return s
}

// Close closes the reader and its caches (the cached files stay on disk for the next
// reader). Iterators still open keep working until closed.
func (r *Reader) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	r.opts.Metrics.detach(r)
	r.prefetch.close()
	var errs []error
	if r.tables != nil {
		errs = append(errs, r.tables.Close())
	}
	errs = append(errs, r.ssts.Close(), r.blobs.Close())
	return errors.Join(errs...)
}
