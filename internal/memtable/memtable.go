package memtable

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"github.com/isledb/isledb/internal/base"
)

const (
	maxHeight = 20 // enough for 4^20 entries
	// branching: a node reaches level i+1 with probability 1/4.
	branchBits = 2

	nodeSlabSize  = 1024    // nodes per slab
	towerSlabSize = 4096    // tower links per slab
	kvSlabSize    = 1 << 20 // bytes per key/value slab
	// Entries larger than this get their own slab rather than wasting a shared one.
	kvLargeEntry = kvSlabSize / 4

	// nodeBytes is the size of a node, for the pool's accounting.
	nodeBytes = int(unsafe.Sizeof(node{}))

	// nodeOverhead is the memory a node costs besides its key, value and tower, for Size.
	nodeOverhead = 80
)

// Entry is one write as the memtable holds it. Key and Value alias the memtable's memory:
// do not modify them; they stay valid as long as the Memtable is reachable (for a memtable
// from a Pool: until its last Unref).
type Entry = base.Entry

type node struct {
	prefix uint64 // the key's first 8 bytes, big-endian, zero-padded: most comparisons end here
	kv     []byte // key followed by value
	klen   uint32
	kind   base.Kind
	seq    base.SeqNum
	expiry int64
	next   []atomic.Pointer[node] // the tower; len is the node's height
}

func (n *node) key() []byte { return n.kv[:n.klen] }

// keyPrefix returns the first 8 bytes of key as a big-endian integer, zero-padded, so that
// prefix order agrees with bytes.Compare whenever two prefixes differ.
func keyPrefix(key []byte) uint64 {
	if len(key) >= 8 {
		return binary.BigEndian.Uint64(key)
	}
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// compare orders n against (key, prefix, seq) in internal order.
func (n *node) compare(key []byte, prefix uint64, seq base.SeqNum) int {
	if n.prefix != prefix {
		if n.prefix < prefix {
			return -1
		}
		return 1
	}
	return base.CompareInternal(n.key(), n.seq, key, seq)
}

func (n *node) entry() Entry {
	return Entry{Key: n.kv[:n.klen:n.klen], Value: n.kv[n.klen:], Seq: n.seq, Kind: n.kind, Expiry: n.expiry}
}

// Memtable is an arena skiplist. See the package doc for its concurrency rules.
type Memtable struct {
	head   node
	height atomic.Int32 // levels in use

	// Owned by the single writer.
	nodes  []node
	towers []atomic.Pointer[node]
	kv     []byte
	rnd    uint64
	prev   [maxHeight]*node

	size   atomic.Int64
	count  atomic.Int64
	maxSeq atomic.Uint64
	minSeq atomic.Uint64

	// Set by Pool.New: where the slabs come from and go back to, the slabs taken (owned by
	// the single writer until the last Unref), and the references (pool.go).
	pool  *Pool
	slabs slabs
	refs  atomic.Int32
}

// Ref adds a reference to a memtable from Pool.New, which keeps its memory from being
// recycled until the matching Unref. The caller must already know the memtable live: it
// or someone whose reference outlasts this call holds one. No-op without a pool.
func (m *Memtable) Ref() {
	if m.pool != nil {
		m.refs.Add(1)
	}
}

// Unref drops a reference; the last one gives the memtable's slabs back to its pool, after
// which neither the memtable nor any Entry read from it may be used. No-op without a pool
// (the GC frees such a memtable).
func (m *Memtable) Unref() {
	if m.pool == nil {
		return
	}
	switch n := m.refs.Add(-1); {
	case n == 0:
		m.nodes, m.towers, m.kv = nil, nil, nil
		m.pool.put(&m.slabs)
	case n < 0:
		panic("memtable: Unref of a released memtable") // a reference-counting bug, never input
	}
}

// New returns an empty memtable.
func New() *Memtable {
	m := &Memtable{rnd: 0x9E3779B97F4A7C15}
	m.head.next = make([]atomic.Pointer[node], maxHeight)
	m.height.Store(1)
	return m
}

// Size returns the memory the entries take, keys, values and overhead included.
func (m *Memtable) Size() int64 { return m.size.Load() }

// Len returns the number of entries.
func (m *Memtable) Len() int { return int(m.count.Load()) }

// Empty reports whether the memtable has no entries.
func (m *Memtable) Empty() bool { return m.count.Load() == 0 }

// SeqRange returns the smallest and largest sequence numbers added (0, 0 when empty).
func (m *Memtable) SeqRange() (lo, hi base.SeqNum) {
	return base.SeqNum(m.minSeq.Load()), base.SeqNum(m.maxSeq.Load())
}

// EntrySize is what Size grows by when an entry with the given key and value lengths is
// added, tower excluded; for deciding ahead of an Add whether a memtable is full.
func EntrySize(keyLen, valueLen int) int64 { return int64(keyLen+valueLen) + nodeOverhead }

// Add inserts an entry, copying key and value. Calls must be serialized; seq must be
// unique within the memtable.
func (m *Memtable) Add(seq base.SeqNum, kind base.Kind, key, value []byte, expiry int64) {
	h := m.randomHeight()
	n := m.newNode(h)
	n.kv = m.alloc(len(key) + len(value))
	copy(n.kv, key)
	copy(n.kv[len(key):], value)
	n.klen = uint32(len(key))
	n.prefix = keyPrefix(key)
	n.kind, n.seq, n.expiry = kind, seq, expiry

	if cur := int(m.height.Load()); h > cur {
		for i := cur; i < h; i++ {
			m.prev[i] = &m.head
		}
		m.height.Store(int32(h))
	}
	// Find the predecessors at every level.
	x := &m.head
	for lvl := int(m.height.Load()) - 1; lvl >= 0; lvl-- {
		for {
			nx := x.next[lvl].Load()
			if nx == nil || nx.compare(key, n.prefix, seq) >= 0 {
				break
			}
			x = nx
		}
		m.prev[lvl] = x
	}
	// Link bottom-up: a reader that finds n at any level finds it complete.
	for lvl := range h {
		n.next[lvl].Store(m.prev[lvl].next[lvl].Load())
		m.prev[lvl].next[lvl].Store(n)
	}
	m.size.Add(EntrySize(len(key), len(value)) + int64(8*h))
	if m.count.Add(1) == 1 || uint64(seq) < m.minSeq.Load() {
		m.minSeq.Store(uint64(seq))
	}
	if uint64(seq) > m.maxSeq.Load() {
		m.maxSeq.Store(uint64(seq))
	}
}

func (m *Memtable) randomHeight() int {
	// xorshift64*: the writer is single, so no lock.
	m.rnd ^= m.rnd >> 12
	m.rnd ^= m.rnd << 25
	m.rnd ^= m.rnd >> 27
	r := m.rnd * 2685821657736338717
	h := 1
	for h < maxHeight && r&(1<<branchBits-1) == 0 {
		h++
		r >>= branchBits
	}
	return h
}

func (m *Memtable) newNode(h int) *node {
	if len(m.nodes) == 0 {
		if m.pool != nil {
			m.nodes = m.pool.nodeSlab()
			m.slabs.nodes = append(m.slabs.nodes, m.nodes)
		} else {
			m.nodes = make([]node, nodeSlabSize)
		}
	}
	n := &m.nodes[0]
	m.nodes = m.nodes[1:]
	if len(m.towers) < h {
		if m.pool != nil {
			m.towers = m.pool.towerSlab()
			m.slabs.towers = append(m.slabs.towers, m.towers)
		} else {
			m.towers = make([]atomic.Pointer[node], towerSlabSize)
		}
	}
	n.next = m.towers[:h:h]
	m.towers = m.towers[h:]
	return n
}

func (m *Memtable) alloc(n int) []byte {
	if n >= kvLargeEntry {
		if m.pool != nil {
			b := m.pool.large(n)
			m.slabs.large = append(m.slabs.large, b)
			return b
		}
		return make([]byte, n)
	}
	if len(m.kv) < n {
		if m.pool != nil {
			m.kv = m.pool.kvSlab()
			m.slabs.kv = append(m.slabs.kv, m.kv)
		} else {
			m.kv = make([]byte, kvSlabSize)
		}
	}
	b := m.kv[:n:n]
	m.kv = m.kv[n:]
	return b
}

// seekGE returns the first node at or after (key, seq).
func (m *Memtable) seekGE(key []byte, seq base.SeqNum) *node {
	prefix := keyPrefix(key)
	x := &m.head
	for lvl := int(m.height.Load()) - 1; lvl >= 0; lvl-- {
		for {
			nx := x.next[lvl].Load()
			if nx == nil || nx.compare(key, prefix, seq) >= 0 {
				break
			}
			x = nx
		}
	}
	return x.next[0].Load()
}

// Get returns the newest entry for key.
func (m *Memtable) Get(key []byte) (Entry, bool) {
	n := m.seekGE(key, base.SeqNumMax)
	if n == nil || !bytes.Equal(n.key(), key) {
		return Entry{}, false
	}
	return n.entry(), true
}

// Iterator walks the memtable in internal order. It sees entries added after it was
// made only if they sort after its position. Not safe for concurrent use by itself.
type Iterator struct {
	m *Memtable
	n *node
}

// NewIterator returns an unpositioned iterator; call First or SeekGE.
func (m *Memtable) NewIterator() *Iterator { return &Iterator{m: m} }

// First moves to the first entry.
func (it *Iterator) First() bool {
	it.n = it.m.head.next[0].Load()
	return it.n != nil
}

// SeekGE moves to the first entry whose user key is at least key.
func (it *Iterator) SeekGE(key []byte) bool {
	it.n = it.m.seekGE(key, base.SeqNumMax)
	return it.n != nil
}

// Next moves to the next entry.
func (it *Iterator) Next() bool {
	if it.n != nil {
		it.n = it.n.next[0].Load()
	}
	return it.n != nil
}

// Valid reports whether the iterator is at an entry.
func (it *Iterator) Valid() bool { return it.n != nil }

// Entry returns the current entry (valid until the memtable is dropped).
func (it *Iterator) Entry() Entry { return it.n.entry() }

// Key returns the current user key.
func (it *Iterator) Key() []byte { return it.n.key() }
