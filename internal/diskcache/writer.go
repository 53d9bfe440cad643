package diskcache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// ErrNoRoom is returned by Create when the space the item needs is reserved by other
// writers in progress: evicting every stored item would still not make room. Like
// ErrTooLarge, it only means the caller goes without caching.
var ErrNoRoom = errors.New("diskcache: no room: the capacity is reserved by writers in progress")

// Writer streams one item into the cache: Create reserves its size, Write appends to a
// temporary file, Commit stores it under its name (Abort drops it). The reserved bytes
// count against the capacity from Create on, so the disk held by items and writers in
// progress together stays within it. A Writer is not safe for concurrent use.
type Writer struct {
	c       *Cache
	name    string
	size    int64 // reserved, and the exact size Commit requires
	f       *os.File
	written int64
	once    sync.Once // releases the reservation
	done    bool
}

// Create starts streaming an item of exactly size bytes under name. It reserves size bytes
// at once, evicting least recently used items to make room (OnEvict is called for them
// before Create returns). An item larger than MaxItemSize or the capacity is refused with
// ErrTooLarge, one that cannot fit beside the writers in progress with ErrNoRoom. If the
// cache already holds name, Create still works: Commit then keeps the held copy.
func (c *Cache) Create(name string, size int64) (*Writer, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if size <= 0 || size > c.opts.Capacity || c.opts.MaxItemSize > 0 && size > c.opts.MaxItemSize {
		c.rejected.Add(1)
		return nil, fmt.Errorf("%w: %q is %d bytes (limit %d)", ErrTooLarge, name, size, c.itemLimit())
	}
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.mu.reserved+size > c.opts.Capacity {
		c.mu.Unlock()
		c.rejected.Add(1)
		return nil, fmt.Errorf("%w: %q needs %d bytes, %d of %d reserved", ErrNoRoom, name, size, c.mu.reserved, c.opts.Capacity)
	}
	c.mu.reserved += size
	evicted := c.evictLocked()
	c.mu.Unlock()
	c.notifyEvicted(evicted)

	w := &Writer{c: c, name: name, size: size}
	f, err := os.CreateTemp(c.dir, tempPrefix+"*"+tempSuffix)
	if err != nil {
		w.release()
		c.putErrors.Add(1)
		return nil, fmt.Errorf("diskcache: creating %q: %w", name, err)
	}
	w.f = f
	return w, nil
}

// notifyEvicted calls OnEvict for each name; call without the lock.
func (c *Cache) notifyEvicted(names []string) {
	if c.opts.OnEvict != nil {
		for _, n := range names {
			c.opts.OnEvict(n)
		}
	}
}

// release gives the reservation back.
func (w *Writer) release() {
	w.once.Do(func() {
		w.c.mu.Lock()
		w.c.mu.reserved -= w.size
		w.c.mu.Unlock()
	})
}

// Write appends p to the item. Writing past the size given to Create is an error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("diskcache: write after Commit or Abort")
	}
	if w.written+int64(len(p)) > w.size {
		return 0, fmt.Errorf("diskcache: %q: write past the %d bytes reserved", w.name, w.size)
	}
	n, err := w.f.Write(p)
	w.written += int64(n)
	return n, err
}

// Commit stores the item under its name, replacing nothing: if the cache came to hold the
// name meanwhile, that copy stays (items are immutable). It fails unless exactly the size
// given to Create was written. The Writer is finished either way.
func (w *Writer) Commit() error {
	if w.done {
		return errors.New("diskcache: Commit after Commit or Abort")
	}
	w.done = true
	c := w.c
	fn := filepath.Base(w.f.Name())
	err := w.f.Close()
	if err == nil && w.written != w.size {
		err = fmt.Errorf("%d bytes written, %d announced", w.written, w.size)
	}
	if err != nil {
		c.removeFile(fn, "temporary file")
		w.release()
		c.putErrors.Add(1)
		return fmt.Errorf("diskcache: writing %q: %w", w.name, err)
	}
	c.mu.Lock()
	// The reservation becomes the item (store counts the item's bytes).
	c.mu.reserved -= w.size
	w.once.Do(func() {})
	if e, ok := c.mu.items[w.name]; ok && !c.mu.closed {
		// Held already: keep that copy (renaming over it would leave a reader open on
		// the replaced file holding disk space the cache no longer counts).
		c.mu.lru.moveToFront(e)
		c.mu.Unlock()
		c.removeFile(fn, "temporary file")
		c.puts.Add(1)
		return nil
	}
	c.mu.Unlock()
	evicted, err := c.store(w.name, fn, w.size)
	c.notifyEvicted(evicted)
	return err
}

// Abort drops the item. Calling it after Commit does nothing, so it can be deferred.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	w.c.removeFile(filepath.Base(w.f.Name()), "temporary file")
	w.release()
}
