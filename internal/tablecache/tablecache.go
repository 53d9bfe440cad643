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
	// Put stores data under name; it may refuse (too large), which only costs a re-fetch.
	Put(name string, data []byte) error
	// Remove drops name from the cache.
	Remove(name string)
	// Touch marks name as recently used (an SST open on its file was used again).
	Touch(name string)
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
}

// Stats counts the cache's work.
type Stats struct {
	FileHits, FileMisses, RangeOpens, Open int64
}

// Cache hands out open SST readers. Safe for concurrent use.
type Cache struct {
	opts   Options
	nextID atomic.Uint64
	stats  struct{ fileHits, fileMisses, rangeOpens atomic.Int64 }

	mu struct {
		sync.Mutex
		tables map[string]*table
		closed bool
	}
}

type table struct {
	id      string
	reader  *sstable.Reader
	file    File // nil for range or in-memory sources
	inMem   bool // the reader holds the whole SST in memory: not kept once unused
	refs    int  // users, plus one while not evicted
	evicted bool
	ready   chan struct{} // closed once reader or err is set
	isReady atomic.Bool   // ready is closed: the fast path skips the select
	err     error
}

// New returns a cache.
func New(opts Options) *Cache {
	c := &Cache{opts: opts}
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
		t = &table{id: meta.ID, refs: 1, ready: make(chan struct{})}
		c.mu.tables[meta.ID] = t
	}
	t.refs++
	c.mu.Unlock()
	if !ok {
		t.reader, t.file, t.inMem, t.err = c.open(ctx, meta)
		close(t.ready)
		t.isReady.Store(true)
		// A failed open is forgotten, to let a later call try again. An SST held whole in
		// memory (it did not go to the file cache) is not kept either, so that the memory
		// held for SSTs is bounded by the ones in use rather than by every one ever read.
		if t.err != nil || t.inMem {
			c.mu.Lock()
			if c.mu.tables[meta.ID] == t {
				delete(c.mu.tables, meta.ID)
				t.evicted = true
				t.refs--
			}
			c.mu.Unlock()
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
	c.drop(id, func(t *table) bool { return t.isReady.Load() && t.file == nil })
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
		delete(c.mu.tables, id)
		t.evicted = true
		t.refs--
	}
	closeNow := ok && t.refs == 0
	c.mu.Unlock()
	if closeNow {
		<-t.ready
		t.close()
	}
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n := int64(len(c.mu.tables))
	c.mu.Unlock()
	return Stats{FileHits: c.stats.fileHits.Load(), FileMisses: c.stats.fileMisses.Load(), RangeOpens: c.stats.rangeOpens.Load(), Open: n}
}

// Close closes every SST no one uses; the rest close on release.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.mu.closed = true
	var idle []*table
	for id, t := range c.mu.tables {
		delete(c.mu.tables, id)
		t.evicted = true
		t.refs--
		if t.refs == 0 {
			idle = append(idle, t)
		}
	}
	c.mu.Unlock()
	for _, t := range idle {
		<-t.ready
		t.close()
	}
	return nil
}

func (c *Cache) readerOptions(meta *manifest.SSTMeta) sstable.ReaderOptions {
	return sstable.ReaderOptions{
		Object:  c.opts.Store.SSTPath(meta.ID),
		Cache:   c.opts.Blocks,
		CacheID: c.nextID.Add(1), // unique per open: blocks of an evicted SST never collide
	}
}

// open opens one SST: from the file cache, by range, or by downloading it whole. inMem
// reports a reader holding the whole SST in memory.
func (c *Cache) open(ctx context.Context, meta *manifest.SSTMeta) (*sstable.Reader, File, bool, error) {
	want, err := parseChecksum(meta.Checksum)
	if err != nil {
		return nil, nil, false, fmt.Errorf("tablecache: sst %s: %w", meta.ID, err)
	}
	if c.opts.VerifySignature != nil {
		if err := c.opts.VerifySignature(want, meta.Signature); err != nil {
			return nil, nil, false, fmt.Errorf("tablecache: sst %s: signature: %w", meta.ID, err)
		}
	}
	ropts := c.readerOptions(meta)
	if c.opts.Files != nil {
		if f, ok, err := c.opts.Files.Open(meta.ID); err == nil && ok {
			r, err := c.openFile(ctx, f, meta, want, ropts)
			if err == nil {
				c.stats.fileHits.Add(1)
				return r, f, false, nil
			}
			_ = f.Close()
			c.opts.Files.Remove(meta.ID) // a bad cached copy: fetch again
		}
	}
	// An SST the file cache cannot hold would be held whole in memory: read it by range.
	tooLarge := c.opts.FileCacheCapacity > 0 && meta.Size > c.opts.FileCacheCapacity
	if !c.opts.RequireWholeFile && (tooLarge || c.opts.RangeReadMinSize > 0 && meta.Size >= c.opts.RangeReadMinSize) {
		c.stats.rangeOpens.Add(1)
		src := &rangeSource{store: c.opts.Store, key: c.opts.Store.SSTPath(meta.ID), size: meta.Size}
		r, err := sstable.Open(ctx, src, ropts)
		if err != nil {
			return nil, nil, false, fmt.Errorf("tablecache: open sst %s by range: %w", meta.ID, err)
		}
		return r, nil, false, nil
	}
	c.stats.fileMisses.Add(1)
	data, _, err := c.opts.Store.Read(ctx, c.opts.Store.SSTPath(meta.ID))
	if err != nil {
		return nil, nil, false, fmt.Errorf("tablecache: read sst %s: %w", meta.ID, err)
	}
	if got := sha256.Sum256(data); string(got[:]) != string(want) || int64(len(data)) != meta.Size {
		return nil, nil, false, base.CorruptionErrorf(c.opts.Store.SSTPath(meta.ID), 0,
			"sst content does not match the manifest (size %d, want %d; sha256 %x, want %x)", len(data), meta.Size, got, want)
	}
	if c.opts.Files != nil && c.opts.Files.Put(meta.ID, data) == nil {
		if f, ok, err := c.opts.Files.Open(meta.ID); err == nil && ok {
			if r, err := sstable.Open(ctx, fileSource{f}, ropts); err == nil {
				return r, f, false, nil
			}
			_ = f.Close()
		}
	}
	r, err := sstable.OpenBytes(data, ropts)
	if err != nil {
		return nil, nil, false, fmt.Errorf("tablecache: open sst %s: %w", meta.ID, err)
	}
	return r, nil, true, nil
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

// rangeSource reads an SST object by ranged GETs: one request per ReadAt.
type rangeSource struct {
	store *blobstore.Store
	key   string
	size  int64
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
	return nil
}
