package wal

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
)

// segHandle is a segment file open for reading, shared through the handleCache. Readers
// acquire it, use it, and release it; the file (and mapping) is closed once it has left the
// cache and its last reader has released it.
type segHandle struct {
	seg    *segment
	f      *os.File
	data   []byte // the whole file when mapped, else nil
	size   int64  // file size when opened; final only if sealed
	sealed bool   // opened after the segment was sealed

	// Guarded by handleCache.mu.
	refs    int
	evicted bool
	elem    *list.Element

	// The record index of a sealed segment, built on first use.
	idxOnce sync.Once
	idx     []uint32
	idxErr  error
}

// handleCache is the LRU of open segment files, bounded by MaxOpenSegments.
type handleCache struct {
	capacity int
	mmap     bool

	cnt atomic.Int64 // open files, in or out of the cache

	mu struct {
		sync.Mutex
		ll     *list.List // front = most recently used
		m      map[*segment]*segHandle
		closed bool // after closeAll, handles are not cached: the last release closes them
	}
}

func newHandleCache(capacity int, mmap bool) *handleCache {
	c := &handleCache{capacity: capacity, mmap: mmap}
	c.mu.ll = list.New()
	c.mu.m = make(map[*segment]*segHandle)
	return c
}

// acquire returns a handle on seg with a reference taken. A sealed segment is mapped when the
// cache uses mmap; the active one never is, since it still grows.
func (c *handleCache) acquire(seg *segment, sealed bool) (*segHandle, error) {
	c.mu.Lock()
	if h := c.mu.m[seg]; h != nil {
		if h.sealed || !sealed {
			h.refs++
			c.mu.ll.MoveToFront(h.elem)
			c.mu.Unlock()
			return h, nil
		}
		// Opened while the segment was active: its size is stale.
		c.removeLocked(h)
	}
	c.mu.Unlock()

	h, err := openHandle(seg, sealed, sealed && c.mmap)
	if err != nil {
		return nil, err
	}
	c.cnt.Add(1)

	c.mu.Lock()
	defer c.mu.Unlock()
	if other := c.mu.m[seg]; other != nil {
		if other.sealed || !sealed {
			// Lost a race with another opener: use its handle.
			other.refs++
			c.mu.ll.MoveToFront(other.elem)
			c.closeHandle(h)
			return other, nil
		}
		c.removeLocked(other)
	}
	h.refs = 1
	if c.mu.closed {
		h.evicted = true
		return h, nil
	}
	h.elem = c.mu.ll.PushFront(h)
	c.mu.m[seg] = h
	for c.mu.ll.Len() > c.capacity {
		c.removeLocked(c.mu.ll.Back().Value.(*segHandle))
	}
	return h, nil
}

// release drops a reference taken by acquire.
func (c *handleCache) release(h *segHandle) {
	c.mu.Lock()
	h.refs--
	closeNow := h.evicted && h.refs == 0
	c.mu.Unlock()
	if closeNow {
		c.closeHandle(h)
	}
}

// evict removes seg's handle from the cache, if present; it is closed once unused.
func (c *handleCache) evict(seg *segment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.mu.m[seg]; h != nil {
		c.removeLocked(h)
	}
}

// removeLocked takes h out of the cache and closes it if no reader holds it.
func (c *handleCache) removeLocked(h *segHandle) {
	c.mu.ll.Remove(h.elem)
	delete(c.mu.m, h.seg)
	h.evicted = true
	if h.refs == 0 {
		c.closeHandle(h)
	}
}

// closeAll evicts every handle.
func (c *handleCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closed = true
	for c.mu.ll.Len() > 0 {
		c.removeLocked(c.mu.ll.Back().Value.(*segHandle))
	}
}

func (c *handleCache) closeHandle(h *segHandle) {
	if h.data != nil {
		munmapFile(h.data)
		h.data = nil
	}
	h.f.Close()
	c.cnt.Add(-1)
}

// openFiles returns the number of segment files open for reading.
func (c *handleCache) openFiles() int { return int(c.cnt.Load()) }

// openHandle opens seg's file, checks its header, and maps it if asked.
func openHandle(seg *segment, sealed, mmap bool) (*segHandle, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrSegmentNotFound, seg.path)
		}
		return nil, ioErr("open segment", seg.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ioErr("stat", seg.path, err)
	}
	h := &segHandle{seg: seg, f: f, size: st.Size(), sealed: sealed}
	hdr := make([]byte, seg.hdrLen)
	if n, err := f.ReadAt(hdr, 0); n < len(hdr) {
		f.Close()
		if err == io.EOF {
			return nil, &CorruptionError{Path: seg.path, Offset: 0, Reason: "truncated segment header"}
		}
		return nil, ioErr("read segment header", seg.path, err)
	}
	if err := checkHeader(hdr, seg); err != nil {
		f.Close()
		return nil, err
	}
	if mmap && h.size > 0 {
		data, err := mmapFile(f, h.size)
		if err != nil {
			f.Close()
			return nil, ioErr("mmap", seg.path, err)
		}
		h.data = data
	}
	return h, nil
}

// checkHeader verifies that hdr is a valid header naming seg's stream and start.
func checkHeader(hdr []byte, seg *segment) error {
	h, _, err := decodeSegmentHeader(hdr, seg.path)
	if err != nil {
		return err
	}
	if h.stream != seg.stream || h.start != seg.start {
		return fmt.Errorf("%w: %s: header names stream %q start %d", ErrInvalidFilename, seg.path, h.stream, h.start)
	}
	return nil
}

// index returns the offset of every record of a sealed segment, which must hold count
// records, scanning it on first use.
func (h *segHandle) index(count int, bufSize int) ([]uint32, error) {
	h.idxOnce.Do(func() {
		rr := h.reader(h.seg.hdrLen, h.seg.start, bufSize)
		idx := make([]uint32, 0, count)
		for len(idx) < count {
			rec, err := rr.next()
			if err == io.EOF {
				h.idxErr = &CorruptionError{Path: h.seg.path, Offset: rr.off,
					Reason: fmt.Sprintf("sealed segment ends after %d of %d records", len(idx), count)}
				return
			}
			if err != nil {
				h.idxErr = err
				return
			}
			idx = append(idx, uint32(rec.off))
		}
		h.idx = idx
	})
	return h.idx, h.idxErr
}

// reader returns a record reader over the whole file from offset off.
func (h *segHandle) reader(off int64, id SeqNum, bufSize int) *recordReader {
	if h.data != nil {
		return newRecordReader(h.data, nil, int64(len(h.data)), h.seg.path, off, id, 0)
	}
	return newRecordReader(nil, h.f, h.size, h.seg.path, off, id, bufSize)
}
