package memtable

import (
	"sync"
	"sync/atomic"
)

// Pool recycles the slabs of retired memtables for the next memtables of the same owner
// (the writer). A writer that flushes a 64 MiB memtable every few hundred milliseconds
// would otherwise turn each one into 64 MiB of garbage, and with the Go GC's default
// pacing (GOGC=100) the heap then grows to about twice what is live before each cycle.
// With a Pool, a memtable's nodes, towers and key/value bytes come from slabs that earlier
// memtables gave back; key/value slabs (and entries too large to share one) live outside
// the Go heap where the platform allows it (slab_mmap.go), so the GC pacer does not
// count, and double, them.
//
// Ownership: a memtable from Pool.New starts with one reference, its owner's. Anyone else
// who reads it (Get, an iterator, an Entry's Key or Value) after the owner could retire it
// must hold a reference of their own (Ref) taken while the owner still holds its own, and
// drop it (Unref) when done. The last Unref gives the slabs back to the pool: from then on
// nothing may touch the memtable or any Entry read from it.
//
// At most maxIdle bytes of slabs wait idle in the pool; slabs beyond that are freed when
// given back. Close frees the idle slabs; slabs of memtables still out are freed when
// their last reference goes. The methods are safe for concurrent use.
type Pool struct {
	maxIdle int64
	mu      struct {
		sync.Mutex
		kv     [][]byte
		nodes  [][]node
		towers [][]atomic.Pointer[node]
		idle   int64 // bytes of the slabs above
		closed bool
	}
	inUse   atomic.Int64 // bytes of slabs held by memtables
	offHeap bool
}

// PoolStats is what a Pool holds.
type PoolStats struct {
	// InUse is the bytes of slabs held by memtables not yet retired (their last Unref).
	InUse int64
	// Idle is the bytes of slabs waiting in the pool for the next memtable.
	Idle int64
	// OffHeap reports whether key/value slabs live outside the Go heap.
	OffHeap bool
}

// NewPool returns a pool that keeps at most maxIdle bytes of slabs idle (a memtable's
// worth, usually).
func NewPool(maxIdle int64) *Pool {
	return &Pool{maxIdle: max(maxIdle, 0), offHeap: offHeapSlabs}
}

// New returns an empty memtable whose slabs come from p, holding one reference.
func (p *Pool) New() *Memtable {
	m := New()
	m.pool = p
	m.refs.Store(1)
	return m
}

// Stats returns the bytes p's memtables hold and the bytes idle in p.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	idle := p.mu.idle
	p.mu.Unlock()
	return PoolStats{InUse: p.inUse.Load(), Idle: idle, OffHeap: p.offHeap}
}

// Close frees the idle slabs; later retired slabs are freed instead of kept.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.closed = true
	for _, s := range p.mu.kv {
		freeBytes(s)
	}
	p.mu.kv, p.mu.nodes, p.mu.towers, p.mu.idle = nil, nil, nil, 0
}

// Slab sizes in bytes, for the accounting.
const (
	kvSlabBytes    = int64(kvSlabSize)
	nodeSlabBytes  = int64(nodeSlabSize * nodeBytes)
	towerSlabBytes = int64(towerSlabSize * 8)
)

func (p *Pool) kvSlab() []byte {
	p.inUse.Add(kvSlabBytes)
	p.mu.Lock()
	if n := len(p.mu.kv); n > 0 {
		s := p.mu.kv[n-1]
		p.mu.kv = p.mu.kv[:n-1]
		p.mu.idle -= kvSlabBytes
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	return allocBytes(kvSlabSize)
}

func (p *Pool) nodeSlab() []node {
	p.inUse.Add(nodeSlabBytes)
	p.mu.Lock()
	if n := len(p.mu.nodes); n > 0 {
		s := p.mu.nodes[n-1]
		p.mu.nodes = p.mu.nodes[:n-1]
		p.mu.idle -= nodeSlabBytes
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	return make([]node, nodeSlabSize)
}

func (p *Pool) towerSlab() []atomic.Pointer[node] {
	p.inUse.Add(towerSlabBytes)
	p.mu.Lock()
	if n := len(p.mu.towers); n > 0 {
		s := p.mu.towers[n-1]
		p.mu.towers = p.mu.towers[:n-1]
		p.mu.idle -= towerSlabBytes
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	return make([]atomic.Pointer[node], towerSlabSize)
}

// large returns n bytes for one entry too large to share a key/value slab; such
// allocations are not pooled (their sizes vary) and are freed when the memtable retires.
func (p *Pool) large(n int) []byte {
	p.inUse.Add(int64(n))
	return allocBytes(n)
}

// put takes back the slabs of a retired memtable. Node and tower slabs are cleared first:
// an idle slab must not keep the heap memory its old nodes pointed to alive, and a reused
// node must start from zero.
func (p *Pool) put(s *slabs) {
	var held int64
	p.mu.Lock()
	for _, b := range s.kv {
		held += kvSlabBytes
		if p.mu.closed || p.mu.idle+kvSlabBytes > p.maxIdle {
			freeBytes(b)
			continue
		}
		p.mu.kv = append(p.mu.kv, b[:cap(b)])
		p.mu.idle += kvSlabBytes
	}
	for _, b := range s.nodes {
		held += nodeSlabBytes
		clear(b)
		if !p.mu.closed && p.mu.idle+nodeSlabBytes <= p.maxIdle {
			p.mu.nodes = append(p.mu.nodes, b)
			p.mu.idle += nodeSlabBytes
		}
	}
	for _, b := range s.towers {
		held += towerSlabBytes
		clear(b)
		if !p.mu.closed && p.mu.idle+towerSlabBytes <= p.maxIdle {
			p.mu.towers = append(p.mu.towers, b)
			p.mu.idle += towerSlabBytes
		}
	}
	p.mu.Unlock()
	for _, b := range s.large {
		held += int64(len(b))
		freeBytes(b)
	}
	p.inUse.Add(-held)
	*s = slabs{}
}

// slabs are the slabs a pooled memtable took from its pool, to give back when it retires.
type slabs struct {
	kv     [][]byte
	nodes  [][]node
	towers [][]atomic.Pointer[node]
	large  [][]byte
}

// SlabSlack is how many bytes of slabs a memtable may hold beyond its Size: one part-used
// slab of each kind.
const SlabSlack = kvSlabBytes + nodeSlabBytes + towerSlabBytes
