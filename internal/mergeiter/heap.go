package mergeiter

import (
	"bytes"

	"github.com/isledb/isledb/internal/base"
)

// heapItem is one positioned input. key and seq cache the input's current entry so that
// comparisons cost no interface calls; key aliases the input's buffer and is refreshed every
// time the input moves.
type heapItem struct {
	key []byte
	seq base.SeqNum
	in  Input
	idx int // position in Iterator.inputs: breaks ties, which unique seqs make impossible
}

// before reports whether a sorts before b in internal order.
func before(a, b *heapItem) bool {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	if a.seq != b.seq {
		return a.seq > b.seq
	}
	return a.idx < b.idx
}

// mergeHeap is a binary min-heap of positioned inputs; items[0] holds the smallest entry.
type mergeHeap struct {
	items []heapItem
}

// init establishes the heap order over items.
func (h *mergeHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// down restores the heap order below i after items[i] grew. It moves a hole down rather than
// swapping, which copies each item once.
func (h *mergeHeap) down(i int) {
	items := h.items
	n := len(items)
	x := items[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && before(&items[r], &items[c]) {
			c = r
		}
		if !before(&items[c], &x) {
			break
		}
		items[i] = items[c]
		i = c
	}
	items[i] = x
}

// popTop removes items[0].
func (h *mergeHeap) popTop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items[n] = heapItem{} // drop references for the garbage collector
	h.items = h.items[:n]
	if n > 0 {
		h.down(0)
	}
}
