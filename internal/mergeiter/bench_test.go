package mergeiter

import (
	"bytes"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

const (
	benchInputs  = 10
	benchEntries = 100_000 // per input
)

// benchDistinct returns inputs whose keys interleave: key i belongs to input i%n, so the
// smallest entry changes input at every step, the heap's worst case.
func benchDistinct(n, perInput int) [][]Entry {
	ents := make([][]Entry, n)
	for i := range n * perInput {
		in := i % n
		ents[in] = append(ents[in], Entry{
			Key:   fmt.Appendf(nil, "user%012d", i),
			Value: []byte("value-value-value"),
			Seq:   base.SeqNum(i + 1),
			Kind:  base.KindValue,
		})
	}
	return ents
}

// benchVersions returns inputs that all hold the same keys, like L0 files that each
// overwrote the whole key range: every user key has n versions, one per input.
func benchVersions(n, perInput int) [][]Entry {
	ents := make([][]Entry, n)
	for in := range n {
		ents[in] = make([]Entry, perInput)
		for k := range perInput {
			ents[in][k] = Entry{
				Key:   fmt.Appendf(nil, "user%012d", k),
				Value: []byte("value-value-value"),
				Seq:   base.SeqNum(in*perInput + k + 1),
				Kind:  base.KindValue,
			}
		}
	}
	return ents
}

func newBenchIter(ents [][]Entry, opts Options) *Iterator {
	ins := make([]Input, len(ents))
	for i, e := range ents {
		ins[i] = NewSliceInput(e)
	}
	return New(ins, opts)
}

// BenchmarkMerge measures one Next over 10 inputs of 100k entries each; ns/op is ns per
// entry yielded, and allocs/op must be 0. "versions" yields one entry per 10 it reads.
func BenchmarkMerge(b *testing.B) {
	distinct := benchDistinct(benchInputs, benchEntries)
	versions := benchVersions(benchInputs, benchEntries)
	for _, tc := range []struct {
		name string
		ents [][]Entry
		mode Mode
	}{
		{"distinct/visible", distinct, ModeVisible},
		{"distinct/newest", distinct, ModeNewest},
		{"distinct/all", distinct, ModeAll},
		{"versions/visible", versions, ModeVisible},
		{"versions/all", versions, ModeAll},
	} {
		b.Run(tc.name, func(b *testing.B) {
			it := newBenchIter(tc.ents, Options{Mode: tc.mode})
			defer it.Close()
			it.First()
			b.ReportAllocs()
			var sink int
			for b.Loop() {
				if !it.Next() {
					it.First()
				}
				sink += len(it.Value())
			}
			_ = sink
		})
	}
}

// BenchmarkSeekGE measures a random SeekGE followed by one Next over 10 inputs. Most of
// its time is the inputs' own binary searches over 1M entries, cache misses included.
func BenchmarkSeekGE(b *testing.B) {
	it := newBenchIter(benchDistinct(benchInputs, benchEntries), Options{})
	defer it.Close()
	r := rand.New(rand.NewPCG(1, 2))
	targets := make([][]byte, 1024)
	for i := range targets {
		targets[i] = fmt.Appendf(nil, "user%012d", r.IntN(benchInputs*benchEntries))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		it.SeekGE(targets[i%len(targets)])
		it.Next()
		i++
	}
}

// BenchmarkMergeContainerHeap is the ModeAll merge of BenchmarkMerge/distinct/all written
// with container/heap, kept to justify the hand-written heap (see the package doc).
func BenchmarkMergeContainerHeap(b *testing.B) {
	ents := benchDistinct(benchInputs, benchEntries)
	ins := make([]Input, len(ents))
	for i, e := range ents {
		ins[i] = NewSliceInput(e)
	}
	h := &stdHeap{}
	first := func() {
		h.items = h.items[:0]
		for i, in := range ins {
			if in.First() {
				h.items = append(h.items, heapItem{key: in.Key(), seq: in.Seq(), in: in, idx: i})
			}
		}
		heap.Init(h)
	}
	first()
	b.ReportAllocs()
	var sink int
	for b.Loop() {
		top := &h.items[0]
		if top.in.Next() {
			top.key, top.seq = top.in.Key(), top.in.Seq()
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
		if len(h.items) == 0 {
			first()
		}
		sink += len(h.items[0].in.Value())
	}
	_ = sink
}

type stdHeap struct{ items []heapItem }

func (h *stdHeap) Len() int { return len(h.items) }
func (h *stdHeap) Less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	return a.seq > b.seq
}
func (h *stdHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *stdHeap) Push(x any)    { h.items = append(h.items, x.(heapItem)) }
func (h *stdHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}
