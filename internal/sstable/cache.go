package sstable

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// BlockCache keeps decoded (verified, decompressed) blocks in memory, keyed by the file they
// belong to and their offset in it. One cache is usually shared by every Reader of a process.
//
// Blocks are immutable: a cache and its callers share the slices and nobody modifies them.
// Implementations must be safe for concurrent use by multiple goroutines.
type BlockCache interface {
	// Get returns the block cached for (fileID, offset). The caller must not modify it.
	Get(fileID, offset uint64) (block []byte, ok bool)
	// Put offers a block for (fileID, offset). The cache takes the slice (nobody may modify
	// it afterwards) and may decline to keep it, for example when it is larger than the
	// cache. Putting a key that is present replaces its block.
	Put(fileID, offset uint64, block []byte)
}

// autoCacheIDBase is the first cache ID the package assigns itself; caller-chosen IDs stay
// below it.
const autoCacheIDBase = 1 << 63

var nextAutoCacheID atomic.Uint64

// newAutoCacheID returns a process-unique cache ID at or above autoCacheIDBase.
func newAutoCacheID() uint64 { return autoCacheIDBase | nextAutoCacheID.Add(1) }

// LRUCache is a BlockCache bounded by bytes, split into independently locked shards that
// each evict their least recently used blocks. Each block is charged its length plus a fixed
// overhead for the bookkeeping.
type LRUCache struct {
	shards   []lruShard
	mask     uint64
	capacity int64
}

var _ BlockCache = (*LRUCache)(nil)

// lruEntryOverhead approximates the memory the cache spends per block besides its bytes.
const lruEntryOverhead = 96

type cacheKey struct{ file, offset uint64 }

type lruEntry struct {
	key        cacheKey
	block      []byte
	prev, next *lruEntry
}

type lruShard struct {
	mu struct {
		sync.Mutex
		m    map[cacheKey]*lruEntry
		head lruEntry // sentinel: head.next is the most recently used entry
		used int64

		hits, misses, inserts, evictions uint64
	}
	capacity int64
	_        [64]byte // keep neighbouring shards' locks off the same cache line
}

// NewLRUCache returns a cache holding about capacity bytes of blocks. A capacity below 1
// gives a cache that keeps nothing.
func NewLRUCache(capacity int64) *LRUCache {
	n := 16
	for n > 1 && capacity/int64(n) < 4<<20 {
		n /= 2
	}
	c := &LRUCache{shards: make([]lruShard, n), mask: uint64(n - 1), capacity: capacity}
	for i := range c.shards {
		s := &c.shards[i]
		s.capacity = capacity / int64(n)
		s.mu.m = make(map[cacheKey]*lruEntry)
		s.mu.head.next, s.mu.head.prev = &s.mu.head, &s.mu.head
	}
	return c
}

func (c *LRUCache) shard(k cacheKey) *lruShard {
	h := (k.file*0x9e3779b97f4a7c15 ^ k.offset) * 0xbf58476d1ce4e5b9
	return &c.shards[(h>>32)&c.mask]
}

// Get implements BlockCache.
func (c *LRUCache) Get(fileID, offset uint64) ([]byte, bool) {
	k := cacheKey{fileID, offset}
	s := c.shard(k)
	s.mu.Lock()
	e, ok := s.mu.m[k]
	if !ok {
		s.mu.misses++
		s.mu.Unlock()
		return nil, false
	}
	s.mu.hits++
	if s.mu.head.next != e {
		s.unlinkLocked(e)
		s.pushFrontLocked(e)
	}
	b := e.block
	s.mu.Unlock()
	return b, true
}

// Put implements BlockCache.
func (c *LRUCache) Put(fileID, offset uint64, block []byte) {
	k := cacheKey{fileID, offset}
	s := c.shard(k)
	charge := int64(len(block)) + lruEntryOverhead
	if charge > s.capacity {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.mu.m[k]; ok {
		s.mu.used += int64(len(block)) - int64(len(e.block))
		e.block = block
		s.unlinkLocked(e)
		s.pushFrontLocked(e)
	} else {
		e := &lruEntry{key: k, block: block}
		s.mu.m[k] = e
		s.pushFrontLocked(e)
		s.mu.used += charge
		s.mu.inserts++
	}
	for s.mu.used > s.capacity {
		victim := s.mu.head.prev
		s.removeLocked(victim)
		s.mu.evictions++
	}
}

// EvictFile drops every block of fileID, for example after the file was deleted. It scans
// the whole cache: call it when a file goes away, not per lookup.
func (c *LRUCache) EvictFile(fileID uint64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.mu.m {
			if k.file == fileID {
				s.removeLocked(e)
			}
		}
		s.mu.Unlock()
	}
}

func (s *lruShard) removeLocked(e *lruEntry) {
	s.unlinkLocked(e)
	delete(s.mu.m, e.key)
	s.mu.used -= int64(len(e.block)) + lruEntryOverhead
}

func (s *lruShard) unlinkLocked(e *lruEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (s *lruShard) pushFrontLocked(e *lruEntry) {
	h := &s.mu.head
	e.prev, e.next = h, h.next
	h.next.prev = e
	h.next = e
}

// CacheMetrics are counters and gauges of an LRUCache.
type CacheMetrics struct {
	Hits, Misses, Inserts, Evictions uint64
	// Entries is the number of blocks held; Size the bytes charged for them.
	Entries int64
	Size    int64
	// Capacity is the configured bound.
	Capacity int64
}

// String formats the metrics on one line.
func (m CacheMetrics) String() string {
	ratio := 0.0
	if m.Hits+m.Misses > 0 {
		ratio = float64(m.Hits) / float64(m.Hits+m.Misses)
	}
	return fmt.Sprintf("block cache: %d/%d bytes in %d blocks, hits %d, misses %d (hit ratio %.3f), inserts %d, evictions %d",
		m.Size, m.Capacity, m.Entries, m.Hits, m.Misses, ratio, m.Inserts, m.Evictions)
}

// Metrics returns the cache's counters, summed over its shards.
func (c *LRUCache) Metrics() CacheMetrics {
	m := CacheMetrics{Capacity: c.capacity}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		m.Hits += s.mu.hits
		m.Misses += s.mu.misses
		m.Inserts += s.mu.inserts
		m.Evictions += s.mu.evictions
		m.Entries += int64(len(s.mu.m))
		m.Size += s.mu.used
		s.mu.Unlock()
	}
	return m
}
