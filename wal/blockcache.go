package wal

import (
	"container/list"
	"io"
	"sync"
	"sync/atomic"
)

// blockSize is the unit of the block cache.
const blockSize = 32 << 10

type blockKey struct {
	seg *segment
	idx int64 // block number within the file
}

type cachedBlock struct {
	key  blockKey
	data []byte
}

// blockCache is an LRU cache of fixed-size blocks of sealed segment files, bounded in bytes.
// Sealed segments never change, so cached blocks never go stale; blocks of deleted segments
// simply age out.
type blockCache struct {
	capacity int64

	hits, misses atomic.Uint64

	mu struct {
		sync.Mutex
		used int64
		ll   *list.List
		m    map[blockKey]*list.Element
	}
}

func newBlockCache(capacity int64) *blockCache {
	c := &blockCache{capacity: capacity}
	c.mu.ll = list.New()
	c.mu.m = make(map[blockKey]*list.Element)
	return c
}

// readAt returns n bytes of h's file from off, assembled from cached blocks.
func (c *blockCache) readAt(h *segHandle, off int64, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		pos := off + int64(len(out))
		b, err := c.block(h, pos/blockSize)
		if err != nil {
			return nil, err
		}
		rel := int(pos % blockSize)
		if rel >= len(b) {
			return nil, ioErr("read segment", h.seg.path, io.ErrUnexpectedEOF)
		}
		out = append(out, b[rel:min(len(b), rel+n-len(out))]...)
	}
	return out, nil
}

// block returns block idx of h's file, from the cache or read and inserted.
func (c *blockCache) block(h *segHandle, idx int64) ([]byte, error) {
	key := blockKey{seg: h.seg, idx: idx}
	c.mu.Lock()
	if e := c.mu.m[key]; e != nil {
		c.mu.ll.MoveToFront(e)
		c.mu.Unlock()
		c.hits.Add(1)
		return e.Value.(*cachedBlock).data, nil
	}
	c.mu.Unlock()
	c.misses.Add(1)

	size := min(int64(blockSize), h.size-idx*blockSize)
	if size <= 0 {
		return nil, ioErr("read segment", h.seg.path, io.ErrUnexpectedEOF)
	}
	data := make([]byte, size)
	if n, err := h.f.ReadAt(data, idx*blockSize); n < len(data) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ioErr("read segment", h.seg.path, err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.mu.m[key]; e != nil {
		return e.Value.(*cachedBlock).data, nil
	}
	c.mu.m[key] = c.mu.ll.PushFront(&cachedBlock{key: key, data: data})
	c.mu.used += int64(len(data))
	for c.mu.used > c.capacity && c.mu.ll.Len() > 1 {
		e := c.mu.ll.Back()
		b := e.Value.(*cachedBlock)
		c.mu.ll.Remove(e)
		delete(c.mu.m, b.key)
		c.mu.used -= int64(len(b.data))
	}
	return data, nil
}
