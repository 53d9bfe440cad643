package tablecache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// File is an open cached SST file.
type File interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// FileCache is the local cache of whole SST files.
type FileCache interface {
	// Open returns the cached file, or ok false. The file stays readable until closed,
	// even if evicted meanwhile.
	Open(name string) (f File, ok bool, err error)
	// Create starts writing a file of exactly size bytes under name, reserving its space
	// in the cache at once; it may refuse (too large, no room), which only costs keeping
	// the SST in memory or reading it by range.
	Create(name string, size int64) (FileWriter, error)
	// Remove drops name from the cache.
	Remove(name string)
	// Touch marks name as recently used (an SST open on its file was used again).
	Touch(name string)
	// Contains reports whether the cache holds name.
	Contains(name string) bool
	// Room returns the bytes the cache can take without evicting anything.
	Room() int64
}

// FileWriter writes one file into a FileCache: Commit stores it, Abort (a no-op after
// Commit) drops it.
type FileWriter interface {
	io.Writer
	Commit() error
	Abort()
}

// Options configure a Cache.
type Options struct {
	Store *blobstore.Store
	// Files caches whole SSTs. Nil: SSTs below RangeReadMinSize are kept in memory only
	// while in use.
	Files FileCache
	// FileCacheCapacity is the most bytes Files holds. An SST larger than that cannot be
	// cached on disk: it is read by range (unless RequireWholeFile), whatever
	// RangeReadMinSize says. 0: no limit known.
	FileCacheCapacity int64
	// Blocks caches decoded blocks of every SST. Nil: none.
	Blocks sstable.BlockCache
	// RangeReadMinSize: SSTs at least this large are read by range when allowed.
	RangeReadMinSize int64
	// RequireWholeFile forbids range reads (the whole-file checksum must be checked).
	RequireWholeFile bool
	// RecheckCached re-verifies the SHA-256 of SSTs opened from the file cache.
	RecheckCached bool
	// VerifySignature, when set, checks each SST's signature before use.
	VerifySignature func(hash []byte, sig *manifest.SSTSignature) error
	// BackgroundFill copies SSTs read by range whole into Files in the background (see
	// fill.go), once they are used and fit: the SST is then read from its local file, and
	// a warm reader sends no request. Ignored without Files.
	BackgroundFill bool
	// FillConcurrency bounds the background fills in progress. Default: 2.
	FillConcurrency int
	// HotRangeReads is how many range reads an SST must have served before it is filled
	// when Files has no free room for it (so filling it evicts another). With room, its
	// first use fills it. Default: 8.
	HotRangeReads int64
	// InPlace opens SSTs that would be read by range straight from the bucket's own files
	// when the Store is a local directory (blobstore.Store.LocalPath): the file stays open
	// while the SST is, and a block read is one pread instead of an open, read and close
	// per block. Such SSTs count towards MaxOpenFiles. Ignored on other backends.
	InPlace bool
	// MaxOpenFiles bounds the SSTs kept open on cached files once unused: beyond it, the
	// least recently used idle ones are closed (a later Get opens their file again).
	// Default: 1024.
	MaxOpenFiles int
}

// The defaults of Options.
const (
	DefaultFillConcurrency = 2
	DefaultHotRangeReads   = 8
	DefaultMaxOpenFiles    = 1024
)

// Stats counts the cache's work.
type Stats struct {
	FileHits, FileMisses, RangeOpens, Open int64
	// Fills counts the SSTs read by range that were copied whole into the file cache in
	// the background and are now read from it; FillErrors the fills that failed (they
	// are tried again on later range reads).
	Fills, FillErrors int64
	// OpenFiles is the number of SSTs open on cached files.
	OpenFiles int64
}

// Cache hands out open SST readers. Safe for concurrent use.
type Cache struct {
	opts   Options
	nextID atomic.Uint64
	clock  atomic.Int64 // use counter, ordering idle file tables for MaxOpenFiles
	stats  struct {
		fileHits, fileMisses, rangeOpens, fills, fillErrors atomic.Int64
	}

	// Background fills (fill.go): bgCtx ends at Close, which waits for bg.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup // one per queued fill

	mu struct {
		sync.Mutex
		tables    map[string]*table
		openFiles int      // tables open on a cached file
		fillQueue []*table // fills waiting for a filler
		fillers   int      // filler goroutines running
		closed    bool
	}
}

type table struct {
	id      string
	meta    manifest.SSTMeta // what it was opened for (fills re-read it)
	cacheID uint64           // the reader's block cache ID, kept by a fill's file reader
	reader  *sstable.Reader
	file    File // nil for range or in-memory sources
	inMem   bool // the reader holds the whole SST in memory: not kept once unused
	byRange bool // the reader reads the bucket by range
	refs    int  // users, plus one while not evicted
	evicted bool
	ready   chan struct{} // closed once reader or err is set
	isReady atomic.Bool   // ready is closed: the fast path skips the select
	err     error

	lastUse    atomic.Int64  // Cache.clock at the last Get
	rangeReads atomic.Int64  // range reads served (byRange)
	filling    atomic.Bool   // a background fill runs (byRange)
	inPlace    bool          // file is the bucket's own file (Options.InPlace), not a cached copy
	counted    bool          // counted in Cache.mu.openFiles; guarded by Cache.mu
	fillDone   chan struct{} // closed when the queued fill ends; guarded by Cache.mu
}

// New returns a cache.
func New(opts Options) *Cache {
	if opts.FillConcurrency <= 0 {
		opts.FillConcurrency = DefaultFillConcurrency
	}
	if opts.HotRangeReads <= 0 {
		opts.HotRangeReads = DefaultHotRangeReads
	}
	if opts.MaxOpenFiles <= 0 {
		opts.MaxOpenFiles = DefaultMaxOpenFiles
	}
	c := &Cache{opts: opts}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	c.mu.tables = map[string]*table{}
	return c
}

// ErrClosed reports use of a closed cache.
var ErrClosed = errors.New("tablecache: closed")

// Handle is a reference to an open SST. Release it when done.
type Handle struct {
	c *Cache
	t *table
}

// Reader returns the SST reader.
func (h Handle) Reader() *sstable.Reader { return h.t.reader }

// Release drops the reference.
func (h Handle) Release() { h.c.release(h.t) }

// Get returns an open reader for the SST meta describes, opening it if needed. Concurrent
// callers for one SST share one open.
func (c *Cache) Get(ctx context.Context, meta *manifest.SSTMeta) (Handle, error) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return Handle{}, ErrClosed
	}
	t, ok := c.mu.tables[meta.ID]
	if !ok {
		t = &table{id: meta.ID, meta: *meta, cacheID: c.nextID.Add(1), refs: 1, ready: make(chan struct{})}
		c.mu.tables[meta.ID] = t
	}
	t.refs++
	c.mu.Unlock()
	t.lastUse.Store(c.clock.Add(1))
	if !ok {
		t.err = c.open(ctx, t)
		close(t.ready)
		t.isReady.Store(true)
		// A failed open is forgotten, to let a later call try again. An SST held whole in
		// memory (it did not go to the file cache) is not kept either, so that the memory
		// held for SSTs is bounded by the ones in use rather than by every one ever read.
		var idle []*table
		c.mu.Lock()
		if t.err != nil || t.inMem {
			if c.mu.tables[meta.ID] == t {
				delete(c.mu.tables, meta.ID)
				t.evicted = true
				t.refs--
			}
		} else if t.file != nil && c.mu.tables[meta.ID] == t {
			c.countFileLocked(t)
			idle = c.closeIdleFilesLocked()
		}
		c.mu.Unlock()
		for _, it := range idle {
			it.close()
		}
		if t.byRange {
			c.maybeFill(t, false)
		}
	} else if !t.isReady.Load() {
		select {
		case <-t.ready:
		case <-ctx.Done():
			c.release(t)
			return Handle{}, ctx.Err()
		}
	}
	if t.err != nil {
		c.release(t)
		return Handle{}, t.err
	}
	if ok && t.file != nil {
		// Keep the file cache's eviction order in step with the SST's use.
		c.opts.Files.Touch(meta.ID)
	}
	return Handle{c: c, t: t}, nil
}

// closeIdleFilesLocked drops the least recently used unused tables open on cached files
// until at most MaxOpenFiles remain open, and returns them for the caller to close once
// the lock is released. Tables in use are left alone (they close when released, if
// dropped). Called with c.mu held.
func (c *Cache) closeIdleFilesLocked() []*table {
	var out []*table
	for c.mu.openFiles > c.opts.MaxOpenFiles {
		var lru *table
		for _, t := range c.mu.tables {
			if t.counted && t.refs == 1 && (lru == nil || t.lastUse.Load() < lru.lastUse.Load()) {
				lru = t
			}
		}
		if lru == nil {
			break
		}
		c.removeLocked(lru)
		out = append(out, lru)
	}
	return out
}

func (c *Cache) release(t *table) {
	c.mu.Lock()
	t.refs--
	closeNow := t.refs == 0
	c.mu.Unlock()
	if closeNow {
		t.close()
	}
}

func (t *table) close() {
	if t.reader != nil {
		_ = t.reader.Close()
	}
	if t.file != nil {
		_ = t.file.Close()
	}
}

// Evict closes the SST once its current users release it, and drops its cached file.
func (c *Cache) Evict(id string) {
	c.drop(id, nil)
	if c.opts.Files != nil {
		c.opts.Files.Remove(id)
	}
}

// FileEvicted tells the cache that the file cache evicted the file of SST id. An SST open on
// that file is dropped, to close once its current users release it: its unlinked file then
// frees its disk space, so the disk held for SSTs stays within the file cache's capacity.
// An SST open by range is kept. A later Get opens the SST again.
func (c *Cache) FileEvicted(id string) {
	// A table still opening may end up on the evicted file: drop it too (it costs a re-open
	// at worst). Its opener holds a reference, so it cannot close here before it is ready.
	c.drop(id, func(t *table) bool { return t.isReady.Load() && (t.file == nil || t.inPlace) })
}

// drop removes SST id from the cache (unless keep says otherwise) and closes it once its
// current users release it.
func (c *Cache) drop(id string, keep func(*table) bool) {
	c.mu.Lock()
	t, ok := c.mu.tables[id]
	if ok && keep != nil && keep(t) {
		ok = false
	}
	if ok {
		c.removeLocked(t)
	}
	closeNow := ok && t.refs == 0
	c.mu.Unlock()
	if closeNow {
		<-t.ready
		t.close()
	}
}

// removeLocked takes t out of the map, dropping the map's reference. Called with c.mu held.
func (c *Cache) removeLocked(t *table) {
	delete(c.mu.tables, t.id)
	t.evicted = true
	t.refs--
	if t.counted {
		t.counted = false
		c.mu.openFiles--
	}
}

// countFileLocked counts t, in the map and open on a cached file, in openFiles. Called
// with c.mu held.
func (c *Cache) countFileLocked(t *table) {
	t.counted = true
	c.mu.openFiles++
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n, files := int64(len(c.mu.tables)), int64(c.mu.openFiles)
	c.mu.Unlock()
	return Stats{
		FileHits: c.stats.fileHits.Load(), FileMisses: c.stats.fileMisses.Load(), RangeOpens: c.stats.rangeOpens.Load(), Open: n,
		Fills: c.stats.fills.Load(), FillErrors: c.stats.fillErrors.Load(), OpenFiles: files,
	}
}

// Close closes every SST no one uses; the rest close on release. It stops the background
// fills and waits for them.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.mu.closed = true
	var idle []*table
	for _, t := range c.mu.tables {
		c.removeLocked(t)
		if t.refs == 0 {
			idle = append(idle, t)
		}
	}
	c.mu.Unlock()
	c.bgCancel()
	c.bg.Wait()
	for _, t := range idle {
		<-t.ready
		t.close()
	}
	return nil
}

func (c *Cache) readerOptions(t *table) sstable.ReaderOptions {
	return sstable.ReaderOptions{
		Object: c.opts.Store.SSTPath(t.id),
		Cache:  c.opts.Blocks,
		// Unique per table: blocks of an evicted SST never collide. A fill's file reader
		// keeps its range reader's ID: the bytes are the same, so are the cached blocks.
		CacheID: t.cacheID,
	}
}

// open opens the SST of t: from the file cache, by range, or by downloading it whole. It
// sets t's reader and source fields.
func (c *Cache) open(ctx context.Context, t *table) error {
	meta := &t.meta
	want, err := parseChecksum(meta.Checksum)
	if err != nil {
		return fmt.Errorf("tablecache: sst %s: %w", meta.ID, err)
	}
	if c.opts.VerifySignature != nil {
		if err := c.opts.VerifySignature(want, meta.Signature); err != nil {
			return fmt.Errorf("tablecache: sst %s: signature: %w", meta.ID, err)
		}
	}
	ropts := c.readerOptions(t)
	if c.opts.Files != nil {
		if f, ok, err := c.opts.Files.Open(meta.ID); err == nil && ok {
			r, err := c.openFile(ctx, f, meta, want, ropts)
			if err == nil {
				c.stats.fileHits.Add(1)
				t.reader, t.file = r, f
				return nil
			}
			_ = f.Close()
			c.opts.Files.Remove(meta.ID) // a bad cached copy: fetch again
		}
	}
	// An SST the file cache cannot hold would be held whole in memory: read it by range.
	tooLarge := c.opts.FileCacheCapacity > 0 && meta.Size > c.opts.FileCacheCapacity
	if !c.opts.RequireWholeFile && (tooLarge || c.opts.RangeReadMinSize > 0 && meta.Size >= c.opts.RangeReadMinSize) {
		if c.opts.InPlace {
			if f, ok, err := openInPlace(c.opts.Store, meta); err != nil {
				return err
			} else if ok {
				r, err := sstable.Open(ctx, fileSource{f}, ropts)
				if err != nil {
					_ = f.Close()
					return fmt.Errorf("tablecache: open sst %s in place: %w", meta.ID, err)
				}
				c.stats.rangeOpens.Add(1)
				t.reader, t.file, t.inPlace = r, f, true
				return nil
			}
		}
		c.stats.rangeOpens.Add(1)
		src := &rangeSource{store: c.opts.Store, key: c.opts.Store.SSTPath(meta.ID), size: meta.Size, c: c, t: t}
		r, err := sstable.Open(ctx, src, ropts)
		if err != nil {
			return fmt.Errorf("tablecache: open sst %s by range: %w", meta.ID, err)
		}
		t.reader, t.byRange = r, true
		return nil
	}
	c.stats.fileMisses.Add(1)
	if c.opts.Files != nil {
		// Stream it into the file cache, verified on the way.
		f, err := c.download(ctx, meta, want)
		switch {
		case err == nil:
			r, err := sstable.Open(ctx, fileSource{f}, ropts)
			if err != nil {
				_ = f.Close()
				return fmt.Errorf("tablecache: open sst %s: %w", meta.ID, err)
			}
			t.reader, t.file = r, f
			return nil
		case !errors.Is(err, errNotCached):
			return err
		}
	}
	data, _, err := c.opts.Store.Read(ctx, c.opts.Store.SSTPath(meta.ID))
	if err != nil {
		return fmt.Errorf("tablecache: read sst %s: %w", meta.ID, err)
	}
	if got := sha256.Sum256(data); string(got[:]) != string(want) || int64(len(data)) != meta.Size {
		return base.CorruptionErrorf(c.opts.Store.SSTPath(meta.ID), 0,
			"sst content does not match the manifest (size %d, want %d; sha256 %x, want %x)", len(data), meta.Size, got, want)
	}
	r, err := sstable.OpenBytes(data, ropts)
	if err != nil {
		return fmt.Errorf("tablecache: open sst %s: %w", meta.ID, err)
	}
	t.reader, t.inMem = r, true
	return nil
}

func (c *Cache) openFile(ctx context.Context, f File, meta *manifest.SSTMeta, want []byte, ropts sstable.ReaderOptions) (*sstable.Reader, error) {
	if c.opts.RecheckCached {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, meta.Size+1)); err != nil {
			return nil, err
		}
		if string(h.Sum(nil)) != string(want) {
			return nil, base.CorruptionErrorf(meta.ID, 0, "cached sst does not match the manifest's sha256")
		}
	}
	if f.Size() != meta.Size {
		return nil, base.CorruptionErrorf(meta.ID, 0, "cached sst is %d bytes, want %d", f.Size(), meta.Size)
	}
	return sstable.Open(ctx, fileSource{f}, ropts)
}

// fileSource reads a cached file for the SST reader.
type fileSource struct{ f File }

func (s fileSource) Size() int64 { return s.f.Size() }

func (s fileSource) ReadAt(_ context.Context, p []byte, off int64) error {
	n, err := s.f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return base.CorruptionErrorf("cached sst", off, "short read: %d of %d bytes", n, len(p))
	}
	return err
}

// parseChecksum decodes "sha256:<hex>".
func parseChecksum(s string) ([]byte, error) {
	const p = "sha256:"
	if len(s) != len(p)+64 || s[:len(p)] != p {
		return nil, fmt.Errorf("%w: checksum %q is not sha256:<64 hex digits>", base.ErrCorruption, s)
	}
	b, err := hex.DecodeString(s[len(p):])
	if err != nil {
		return nil, fmt.Errorf("%w: checksum %q: %v", base.ErrCorruption, s, err)
	}
	return b, nil
}

// rangeSource reads an SST object by ranged GETs: one request per ReadAt. Each read counts
// towards filling the SST into the file cache (fill.go).
type rangeSource struct {
	store *blobstore.Store
	key   string
	size  int64
	c     *Cache
	t     *table
}

func (s *rangeSource) Size() int64 { return s.size }

func (s *rangeSource) ReadAt(ctx context.Context, p []byte, off int64) error {
	data, err := s.store.ReadRange(ctx, s.key, off, int64(len(p)))
	if err != nil {
		return err
	}
	if len(data) != len(p) {
		return base.CorruptionErrorf(s.key, off, "short read: %d bytes, want %d (object shorter than the manifest says)", len(data), len(p))
	}
	copy(p, data)
	s.t.rangeReads.Add(1)
	if s.t.isReady.Load() {
		s.c.maybeFill(s.t, false)
	}
	return nil
}
