package memtable

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

type rec struct {
	key, val string
	seq      base.SeqNum
	kind     base.Kind
	exp      int64
}

// TestModel adds random entries and compares order, Get and SeekGE with a sorted slice.
func TestModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, seed))
			m := New()
			var all []rec
			for i := 1; i <= 2000; i++ {
				e := rec{key: fmt.Sprintf("k%03d", r.IntN(300)), val: fmt.Sprint("v", i), seq: base.SeqNum(r.Uint64N(1<<40) + uint64(i)<<40), kind: base.Kind(r.IntN(3)), exp: r.Int64N(3)}
				if r.IntN(10) == 0 {
					e.val = ""
				}
				m.Add(e.seq, e.kind, []byte(e.key), []byte(e.val), e.exp)
				all = append(all, e)
			}
			sort.Slice(all, func(i, j int) bool {
				return base.CompareInternal([]byte(all[i].key), all[i].seq, []byte(all[j].key), all[j].seq) < 0
			})
			it := m.NewIterator()
			i := 0
			for ok := it.First(); ok; ok = it.Next() {
				e := it.Entry()
				w := all[i]
				if string(e.Key) != w.key || string(e.Value) != w.val || e.Seq != w.seq || e.Kind != w.kind || e.Expiry != w.exp {
					t.Fatalf("seed %d entry %d = %q=%q#%d/%v/%d, want %+v", seed, i, e.Key, e.Value, e.Seq, e.Kind, e.Expiry, w)
				}
				i++
			}
			if i != len(all) || m.Len() != len(all) {
				t.Fatalf("seed %d: iterated %d, Len %d, want %d", seed, i, m.Len(), len(all))
			}
			for k := range 310 {
				key := fmt.Sprintf("k%03d", k)
				j := sort.Search(len(all), func(j int) bool { return all[j].key >= key })
				got, ok := m.Get([]byte(key))
				want := j < len(all) && all[j].key == key
				if ok != want || (ok && got.Seq != all[j].seq) {
					t.Fatalf("seed %d: Get(%s) = %v %v, want %v", seed, key, got.Seq, ok, want)
				}
				if it.SeekGE([]byte(key)) != (j < len(all)) || (j < len(all) && it.Entry().Seq != all[j].seq) {
					t.Fatalf("seed %d: SeekGE(%s) wrong", seed, key)
				}
			}
		})
	}
}

func TestCopiesInput(t *testing.T) {
	m := New()
	k, v := []byte("key"), []byte("value")
	m.Add(1, base.KindValue, k, v, 0)
	k[0], v[0] = 'X', 'X'
	e, ok := m.Get([]byte("key"))
	if !ok || string(e.Value) != "value" {
		t.Fatalf("Get after caller reused buffers = %q, %v", e.Value, ok)
	}
	big := bytes.Repeat([]byte("b"), kvLargeEntry+1)
	m.Add(2, base.KindValue, []byte("big"), big, 0)
	if e, _ := m.Get([]byte("big")); !bytes.Equal(e.Value, big) {
		t.Fatal("large value differs")
	}
	lo, hi := m.SeqRange()
	if lo != 1 || hi != 2 {
		t.Fatalf("SeqRange = %d, %d", lo, hi)
	}
	if m.Size() < int64(len(big)) {
		t.Fatalf("Size %d does not count the large value", m.Size())
	}
}

// TestConcurrentReaders runs readers against one writer; under -race this checks the
// lock-free publication, and readers check that what they see is sorted and whole.
func TestConcurrentReaders(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				it := m.NewIterator()
				var prevK []byte
				var prevS base.SeqNum
				for ok := it.First(); ok; ok = it.Next() {
					e := it.Entry()
					if prevK != nil && base.CompareInternal(prevK, prevS, e.Key, e.Seq) >= 0 {
						t.Error("out of order")
						return
					}
					if string(e.Value) != "v"+string(e.Key) {
						t.Errorf("torn entry %q=%q", e.Key, e.Value)
						return
					}
					prevK, prevS = e.Key, e.Seq
				}
				m.Get([]byte("k0500"))
			}
		}()
	}
	for i := range 20000 {
		k := fmt.Sprintf("k%04d", i%1000)
		m.Add(base.SeqNum(i+1), base.KindValue, []byte(k), []byte("v"+k), 0)
	}
	close(stop)
	wg.Wait()
}

func BenchmarkAdd(b *testing.B) {
	keys := make([][]byte, 1<<16)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%016x", r.Uint64())
	}
	val := bytes.Repeat([]byte("v"), 100)
	b.ReportAllocs()
	b.SetBytes(116)
	m := New()
	for i := 0; b.Loop(); i++ {
		if i%(1<<20) == 0 {
			m = New()
		}
		m.Add(base.SeqNum(i+1), base.KindValue, keys[i&(1<<16-1)], val, 0)
	}
}

func BenchmarkGet(b *testing.B) {
	m := New()
	keys := make([][]byte, 1<<17)
	r := rand.New(rand.NewPCG(1, 1))
	val := bytes.Repeat([]byte("v"), 100)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%016x", r.Uint64())
		m.Add(base.SeqNum(i+1), base.KindValue, keys[i], val, 0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := m.Get(keys[i&(1<<17-1)]); !ok {
			b.Fatal("missing")
		}
	}
}

// TestPrefixEdgeCases: keys shorter than the 8-byte inline prefix, keys with zero bytes
// (which pad short prefixes) and keys sharing their first 8 bytes sort as bytes.Compare.
func TestPrefixEdgeCases(t *testing.T) {
	keys := []string{"", "a", "a\x00", "a\x00\x00", "a\x00\x00\x00\x00\x00\x00\x00", "a\x00\x00\x00\x00\x00\x00\x00\x00",
		"aaaaaaaa", "aaaaaaaaX", "aaaaaaaaY", "aaaaaaab", "\xff\xff\xff\xff\xff\xff\xff\xff\xff", "b", "\x00"}
	m := New()
	r := rand.New(rand.NewPCG(3, 4))
	for i, j := range r.Perm(len(keys)) {
		m.Add(base.SeqNum(i+1), base.KindValue, []byte(keys[j]), []byte("v"), 0)
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	it := m.NewIterator()
	i := 0
	for ok := it.First(); ok; ok = it.Next() {
		if string(it.Key()) != sorted[i] {
			t.Fatalf("position %d: %q, want %q", i, it.Key(), sorted[i])
		}
		i++
	}
	for _, k := range keys {
		if e, ok := m.Get([]byte(k)); !ok || string(e.Key) != k {
			t.Fatalf("Get(%q) = %q, %v", k, e.Key, ok)
		}
	}
}
