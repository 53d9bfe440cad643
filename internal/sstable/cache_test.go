package sstable

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLRUCacheEviction(t *testing.T) {
	c := NewLRUCache(10 * (100 + lruEntryOverhead)) // one shard: room for ten 100-byte blocks
	if len(c.shards) != 1 {
		t.Fatalf("%d shards", len(c.shards))
	}
	block := func(i int) []byte { return []byte(strings.Repeat(fmt.Sprint(i%10), 100)) }
	for i := 0; i < 10; i++ {
		c.Put(1, uint64(i), block(i))
	}
	// Touch block 0 so that block 1 is now the least recently used.
	if b, ok := c.Get(1, 0); !ok || string(b) != string(block(0)) {
		t.Fatal("block 0 missing")
	}
	c.Put(1, 10, block(10))
	if _, ok := c.Get(1, 1); ok {
		t.Error("block 1 should have been evicted")
	}
	for _, i := range []int{0, 2, 9, 10} {
		if _, ok := c.Get(1, uint64(i)); !ok {
			t.Errorf("block %d evicted", i)
		}
	}
	if _, ok := c.Get(2, 0); ok {
		t.Error("another file's block found")
	}
	m := c.Metrics()
	if m.Entries != 10 || m.Size > m.Capacity || m.Evictions != 1 || m.Inserts != 11 || m.Hits != 5 || m.Misses != 2 {
		t.Errorf("metrics: %+v", m)
	}
	if !strings.Contains(m.String(), "hits 5") {
		t.Errorf("String() = %q", m.String())
	}
	// Replacing a block keeps the accounting right.
	c.Put(1, 0, make([]byte, 50))
	if b, _ := c.Get(1, 0); len(b) != 50 || c.Metrics().Size != 9*(100+lruEntryOverhead)+50+lruEntryOverhead {
		t.Errorf("after replace: %+v", c.Metrics())
	}
	// A block larger than a shard is not kept.
	c.Put(3, 0, make([]byte, 1<<20))
	if _, ok := c.Get(3, 0); ok {
		t.Error("oversized block cached")
	}
	c.EvictFile(1)
	if m := c.Metrics(); m.Entries != 0 || m.Size != 0 {
		t.Errorf("after EvictFile: %+v", m)
	}
}

func TestLRUCacheZeroCapacity(t *testing.T) {
	c := NewLRUCache(0)
	c.Put(1, 1, []byte("x"))
	if _, ok := c.Get(1, 1); ok {
		t.Error("zero-capacity cache kept a block")
	}
}

func TestLRUCacheShards(t *testing.T) {
	c := NewLRUCache(1 << 30)
	if len(c.shards) != 16 {
		t.Errorf("%d shards for 1 GiB", len(c.shards))
	}
	for i := 0; i < 1000; i++ {
		c.Put(uint64(i%7), uint64(i*4096), make([]byte, 4096))
	}
	used := 0
	for i := range c.shards {
		if len(c.shards[i].mu.m) > 0 {
			used++
		}
	}
	if used < 12 {
		t.Errorf("only %d of 16 shards used", used)
	}
}

func TestLRUCacheConcurrent(t *testing.T) {
	c := NewLRUCache(64 << 10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := uint64((i * (g + 1)) % 300)
				if b, ok := c.Get(uint64(g%2), k); ok {
					if len(b) != int(k%64)+1 || b[0] != byte(k) {
						t.Errorf("wrong block for %d", k)
						return
					}
				} else {
					b := make([]byte, k%64+1)
					b[0] = byte(k)
					c.Put(uint64(g%2), k, b)
				}
				if i%500 == 0 {
					c.EvictFile(uint64(g % 2))
				}
			}
		}(g)
	}
	wg.Wait()
	if m := c.Metrics(); m.Size > m.Capacity {
		t.Errorf("size %d above capacity %d", m.Size, m.Capacity)
	}
}

func TestAutoCacheIDs(t *testing.T) {
	a, b := newAutoCacheID(), newAutoCacheID()
	if a == b || a < autoCacheIDBase || b < autoCacheIDBase {
		t.Errorf("auto IDs %#x %#x", a, b)
	}
	data, _ := build(t, seekEntries(), WriterOptions{BlockSize: 128})
	cache := NewLRUCache(1 << 20)
	r1, _ := OpenBytes(data, ReaderOptions{Cache: cache})
	r2, _ := OpenBytes(data, ReaderOptions{Cache: cache})
	if r1.cacheID == r2.cacheID || r1.cacheID < autoCacheIDBase {
		t.Errorf("readers got cache IDs %#x and %#x", r1.cacheID, r2.cacheID)
	}
	r3, _ := OpenBytes(data, ReaderOptions{Cache: cache, CacheID: 42})
	if r3.cacheID != 42 {
		t.Errorf("explicit cache ID ignored: %d", r3.cacheID)
	}
}

func BenchmarkLRUCacheGet(b *testing.B) {
	c := NewLRUCache(64 << 20)
	for i := 0; i < 1000; i++ {
		c.Put(1, uint64(i), make([]byte, 4096))
	}
	b.RunParallel(func(pb *testing.PB) {
		i := uint64(0)
		for pb.Next() {
			c.Get(1, i%1000)
			i++
		}
	})
}
