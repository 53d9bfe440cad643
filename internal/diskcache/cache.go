package diskcache

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// touchInterval is how stale a file's modification time may grow while its item is being
// read before a hit refreshes it. Open orders adopted files by modification time, so
// refreshing it keeps a restarted cache's LRU order close to the real one, at the cost of
// one utimes call per item per interval.
const touchInterval = 10 * time.Minute

// Cache is a size-bounded LRU cache of immutable items, one file each, in a local directory.
// It is safe for concurrent use. See the package documentation.
type Cache struct {
	dir  string
	opts Options
	log  *slog.Logger

	hits, misses, puts, evictions, rejected, putErrors, fetches atomic.Int64

	mu struct {
		sync.Mutex
		items map[string]*entry
		lru   lruList
		bytes int64
		// reserved is the space Writers in progress hold (see Create): it counts
		// against the capacity with bytes.
		reserved int64
		closed   bool
		flights  map[string]*flight
	}
}

// Open opens the cache in dir, creating the directory if needed. It adopts the items
// already there, so that a restarted process keeps its cache: their least-recently-used
// order is rebuilt from the files' modification times, and the oldest are evicted until the
// rest fit in opts.Capacity. It removes temporary files left by an interrupted Put, empty
// files (what a power loss most often leaves of a file written without fsync; an empty item
// is cheap to fetch again) and files larger than opts.MaxItemSize. Files it did not write are
// left alone and ignored.
//
// A directory must be used by one Cache at a time.
func Open(dir string, opts Options) (*Cache, error) {
	opts = opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("diskcache: creating %s: %w", dir, err)
	}
	c := &Cache{dir: dir, opts: opts, log: opts.Logger}
	c.mu.items = make(map[string]*entry)
	c.mu.flights = make(map[string]*flight)
	c.mu.lru.init()
	if err := c.adopt(); err != nil {
		return nil, err
	}
	return c, nil
}

// adopt indexes the items found in the directory. Called by Open only.
func (c *Cache) adopt() error {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("diskcache: reading %s: %w", c.dir, err)
	}
	var found []*entry
	for _, de := range des {
		fn := de.Name()
		if strings.HasPrefix(fn, tempPrefix) && strings.HasSuffix(fn, tempSuffix) && !de.IsDir() {
			c.removeFile(fn, "temporary file")
			continue
		}
		if !de.Type().IsRegular() {
			continue
		}
		name, ok := parseFileName(fn)
		if !ok {
			c.log.Debug("diskcache: ignoring a file it did not write", "dir", c.dir, "file", fn)
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("diskcache: %w", err)
		}
		size := info.Size()
		switch {
		case size == 0:
			c.removeFile(fn, "empty file")
			continue
		case size > c.opts.Capacity || c.opts.MaxItemSize > 0 && size > c.opts.MaxItemSize:
			c.removeFile(fn, "file above the size limit")
			continue
		}
		found = append(found, &entry{name: name, file: fn, size: size, mtime: info.ModTime()})
	}
	// Oldest first, so that the newest ends up at the front of the list.
	slices.SortFunc(found, func(a, b *entry) int {
		return cmp.Or(a.mtime.Compare(b.mtime), strings.Compare(a.name, b.name))
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range found {
		c.mu.items[e.name] = e
		c.mu.lru.pushFront(e)
		c.mu.bytes += e.size
	}
	_ = c.evictLocked()
	return nil
}

// removeFile deletes file fn of the directory, logging a failure.
func (c *Cache) removeFile(fn, what string) {
	if err := os.Remove(filepath.Join(c.dir, fn)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("diskcache: cannot remove "+what, "dir", c.dir, "file", fn, "err", err)
	}
}

// Dir returns the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Put stores data under name, unless the cache already holds name: items are immutable, so
// the held copy is as good (it only becomes the most recently used). Put writes a temporary
// file and renames it into place, so a crash never leaves a partial file under the item's
// name; it does not fsync (see the package documentation). It then evicts least recently
// used items until the cache fits its capacity.
//
// An item larger than Options.MaxItemSize or than the capacity is refused with ErrTooLarge.
// Put does not retain data.
func (c *Cache) Put(name string, data []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	size := int64(len(data))
	if size > c.opts.Capacity || c.opts.MaxItemSize > 0 && size > c.opts.MaxItemSize {
		c.rejected.Add(1)
		return fmt.Errorf("%w: %q is %d bytes (limit %d)", ErrTooLarge, name, size, c.itemLimit())
	}

	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if e, ok := c.mu.items[name]; ok {
		c.mu.lru.moveToFront(e)
		c.mu.Unlock()
		c.puts.Add(1)
		return nil
	}
	c.mu.Unlock()

	tmp, err := c.writeTemp(data)
	if err != nil {
		c.putErrors.Add(1)
		return fmt.Errorf("diskcache: writing %q: %w", name, err)
	}

	evicted, err := c.store(name, tmp, size)
	if c.opts.OnEvict != nil {
		for _, n := range evicted {
			c.opts.OnEvict(n)
		}
	}
	return err
}

// store renames the temporary file tmp into place as item name, indexes it and evicts what
// no longer fits. It returns the names of the evicted items.
func (c *Cache) store(name, tmp string, size int64) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		c.removeFile(tmp, "temporary file")
		return nil, ErrClosed
	}
	// Rename under the lock: eviction unlinks under it too, so the index and the directory
	// never disagree about which items exist.
	fn := fileName(name)
	if err := os.Rename(filepath.Join(c.dir, tmp), filepath.Join(c.dir, fn)); err != nil {
		c.removeFile(tmp, "temporary file")
		c.putErrors.Add(1)
		return nil, fmt.Errorf("diskcache: storing %q: %w", name, err)
	}
	now := time.Now()
	if e, ok := c.mu.items[name]; ok {
		// A concurrent Put of the same name got here first; our rename replaced its file
		// with the same content.
		c.mu.bytes += size - e.size
		e.size, e.mtime = size, now
		c.mu.lru.moveToFront(e)
	} else {
		e := &entry{name: name, file: fn, size: size, mtime: now}
		c.mu.items[name] = e
		c.mu.lru.pushFront(e)
		c.mu.bytes += size
	}
	evicted := c.evictLocked()
	c.puts.Add(1)
	return evicted, nil
}

func (c *Cache) itemLimit() int64 {
	if c.opts.MaxItemSize > 0 {
		return min(c.opts.MaxItemSize, c.opts.Capacity)
	}
	return c.opts.Capacity
}

// writeTemp writes data to a new temporary file and returns its file name.
func (c *Cache) writeTemp(data []byte) (string, error) {
	f, err := os.CreateTemp(c.dir, tempPrefix+"*"+tempSuffix)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	fn := filepath.Base(f.Name())
	if err != nil {
		c.removeFile(fn, "temporary file")
		return "", err
	}
	return fn, nil
}

// evictLocked removes least recently used items until the cache fits its capacity. It
// returns the names of the items it removed.
func (c *Cache) evictLocked() []string {
	var names []string
	for c.mu.bytes+c.mu.reserved > c.opts.Capacity {
		e := c.mu.lru.back()
		if e == nil {
			break
		}
		c.dropLocked(e)
		c.removeFile(e.file, "evicted file")
		c.evictions.Add(1)
		names = append(names, e.name)
	}
	return names
}

// dropLocked removes e from the index.
func (c *Cache) dropLocked(e *entry) {
	c.mu.lru.remove(e)
	delete(c.mu.items, e.name)
	c.mu.bytes -= e.size
}

// found is what lookup learned about an item, copied under the lock.
type found struct {
	e     *entry // for identity only: its fields may change once the lock is released
	file  string
	size  int64
	touch bool // the file's modification time should be refreshed
}

// lookup finds name and marks it most recently used. It reports false on a miss.
func (c *Cache) lookup(name string) (found, bool, error) {
	if err := ValidateName(name); err != nil {
		return found{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return found{}, false, ErrClosed
	}
	e := c.mu.items[name]
	if e == nil {
		return found{}, false, nil
	}
	c.mu.lru.moveToFront(e)
	f := found{e: e, file: e.file, size: e.size}
	if now := time.Now(); now.Sub(e.mtime) > touchInterval {
		e.mtime = now
		f.touch = true
	}
	return f, true, nil
}

// vanished handles a file found missing although its entry e was in the index when looked
// up. If e is still indexed, the file was removed behind the cache's back: forget it. If
// not, it was evicted or replaced meanwhile, which is a plain miss.
func (c *Cache) vanished(name string, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.items[name] == e {
		c.log.Warn("diskcache: cached file disappeared", "dir", c.dir, "file", e.file)
		c.dropLocked(e)
	}
}

// openFile opens the file of name without counting a hit or a miss.
func (c *Cache) openFile(name string) (*Handle, bool, error) {
	fd, ok, err := c.lookup(name)
	if !ok {
		return nil, false, err
	}
	path := filepath.Join(c.dir, fd.file)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.vanished(name, fd.e)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("diskcache: opening %q: %w", name, err)
	}
	if fd.touch {
		now := time.Now()
		_ = os.Chtimes(path, now, now) // best effort: it only guides the next Open
	}
	return &Handle{f: f, size: fd.size}, true, nil
}

// Get opens the item stored under name. It reports false, with a nil error, on a miss. The
// caller must Close the Handle.
//
// A Handle stays readable after its item is evicted or removed: on unix, removing a file only
// unlinks its name, and its data lives until the last open descriptor is closed (so the
// disk space of a handle held open is freed only when it is closed, and is not counted in the
// capacity meanwhile). An item evicted between the lookup and the open is a miss, never an
// error. On systems that refuse to remove an open file (Windows), eviction leaves the file
// behind, unindexed, for a later Open to adopt or delete.
func (c *Cache) Get(name string) (*Handle, bool, error) {
	h, ok, err := c.openFile(name)
	c.count(ok, err)
	return h, ok, err
}

// ReadAll returns the content of the item stored under name. It reports false, with a nil
// error, on a miss. The slice is the caller's. A file whose size is not the item's (it was
// truncated or extended behind the cache's back) is removed and reported as a miss.
func (c *Cache) ReadAll(name string) ([]byte, bool, error) {
	data, ok, err := c.readFile(name)
	c.count(ok, err)
	return data, ok, err
}

func (c *Cache) readFile(name string) ([]byte, bool, error) {
	h, ok, err := c.openFile(name)
	if !ok {
		return nil, false, err
	}
	defer h.Close()
	data := make([]byte, h.size)
	_, err = h.f.ReadAt(data, 0)
	if err == nil {
		// A file that grew past the item is damaged too (ReadAt alone would not notice).
		var info fs.FileInfo
		if info, err = h.f.Stat(); err == nil && info.Size() != h.size {
			err = fmt.Errorf("file is %d bytes, want %d", info.Size(), h.size)
		}
	}
	if err != nil {
		// The file is not the item that was stored: it was replaced or written to by hand,
		// or a crash without fsync truncated it. Either way it is not to be trusted.
		c.log.Warn("diskcache: cached file damaged; removing it", "dir", c.dir, "file", h.f.Name(), "err", err)
		_ = c.Remove(name)
		return nil, false, nil
	}
	return data, true, nil
}

func (c *Cache) count(hit bool, err error) {
	switch {
	case hit:
		c.hits.Add(1)
	case err == nil:
		c.misses.Add(1)
	}
}

// Touch marks name as the most recently used item, if the cache holds it, without opening
// it or counting a hit. A user that keeps a Handle open and reads it calls Touch so that the
// item's eviction order follows its use.
func (c *Cache) Touch(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.mu.items[name]; e != nil {
		c.mu.lru.moveToFront(e)
	}
}

// Contains reports whether the cache holds name. It neither counts as a hit or miss nor
// changes the LRU order. An invalid name is never contained.
func (c *Cache) Contains(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.mu.items[name]
	return ok
}

// Remove deletes the item stored under name, if any. Open handles on it stay readable (see
// Get). Removing an absent item is not an error.
func (c *Cache) Remove(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return ErrClosed
	}
	e := c.mu.items[name]
	if e == nil {
		return nil
	}
	c.dropLocked(e)
	if err := os.Remove(filepath.Join(c.dir, e.file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("diskcache: removing %q: %w", name, err)
	}
	return nil
}

// Close closes the cache: later calls return ErrClosed. The files stay, for the next Open to
// adopt, and Handles already returned stay readable until they are closed. A fetch in
// progress in GetOrFetch completes for its callers but is not stored. Closing twice is
// harmless.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closed = true
	return nil
}

// Stats returns counters and gauges of the cache's activity since Open.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	bytes, items := c.mu.bytes, int64(len(c.mu.items))
	c.mu.Unlock()
	return Stats{
		Hits:      c.hits.Load(),
		Misses:    c.misses.Load(),
		Puts:      c.puts.Load(),
		Evictions: c.evictions.Load(),
		Rejected:  c.rejected.Load(),
		PutErrors: c.putErrors.Load(),
		Fetches:   c.fetches.Load(),
		Bytes:     bytes,
		Items:     items,
		Capacity:  c.opts.Capacity,
	}
}

// check verifies the cache's invariants: the index, the LRU list and the byte count agree,
// the cache fits its capacity, and every indexed item has its file, of its size. Tests call
// it.
func (c *Cache) check() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	n, bytes := 0, int64(0)
	for e := c.mu.lru.root.next; e != &c.mu.lru.root; e = e.next {
		n++
		bytes += e.size
		if c.mu.items[e.name] != e {
			errs = append(errs, fmt.Errorf("list entry %q not in the index", e.name))
		}
		info, err := os.Stat(filepath.Join(c.dir, e.file))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("item %q: %w", e.name, err))
		case info.Size() != e.size:
			errs = append(errs, fmt.Errorf("item %q: file has %d bytes, index says %d", e.name, info.Size(), e.size))
		}
	}
	if n != len(c.mu.items) {
		errs = append(errs, fmt.Errorf("list has %d entries, index %d", n, len(c.mu.items)))
	}
	if bytes != c.mu.bytes {
		errs = append(errs, fmt.Errorf("items hold %d bytes, count says %d", bytes, c.mu.bytes))
	}
	if c.mu.bytes+c.mu.reserved > c.opts.Capacity {
		errs = append(errs, fmt.Errorf("%d bytes (%d reserved) over capacity %d", c.mu.bytes, c.mu.reserved, c.opts.Capacity))
	}
	return errors.Join(errs...)
}

// Room returns the bytes that could be stored without evicting anything: the capacity
// less the items held and the space reserved by Writers in progress.
func (c *Cache) Room() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts.Capacity - c.mu.bytes - c.mu.reserved
}
