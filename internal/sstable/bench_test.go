package sstable

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

// benchData returns n sorted entries of 16-byte keys and 100-byte values that compress to
// about half.
func benchData(n int) []Entry {
	x := uint64(0x9e3779b97f4a7c15)
	es := make([]Entry, n)
	for i := range es {
		v := make([]byte, 100)
		for j := 0; j < 50; j++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			v[j] = byte(x)
		}
		for j := 50; j < 100; j++ {
			v[j] = "abcdefgh"[j%8]
		}
		es[i] = Entry{Key: []byte(fmt.Sprintf("%016x", i*2)), Value: v, Seq: base.SeqNum(n - i), Kind: base.KindValue}
	}
	return es
}

func BenchmarkWriter(b *testing.B) {
	es := benchData(100000)
	var buf bytes.Buffer
	for _, comp := range []string{"none", "snappy", "zstd", "lz4"} {
		b.Run(comp, func(b *testing.B) {
			b.SetBytes(int64(len(es)) * 116)
			for b.Loop() {
				buf.Reset()
				w, _ := NewWriter(&buf, WriterOptions{Compression: comp})
				for _, e := range es {
					if err := w.Add(e); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Finish(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "file-bytes")
		})
	}
}

func benchReader(b *testing.B, n int) (*Reader, []Entry) {
	es := benchData(n)
	data, _ := build(b, es, WriterOptions{})
	r, err := OpenBytes(data, ReaderOptions{Cache: NewLRUCache(256 << 20)})
	if err != nil {
		b.Fatal(err)
	}
	it := r.NewIter(ctx, IterOptions{}) // warm the cache
	for ok := it.First(); ok; ok = it.Next() {
	}
	it.Close()
	return r, es
}

// BenchmarkSSTGet is a point lookup with every block cached.
func BenchmarkSSTGet(b *testing.B) {
	r, es := benchReader(b, 200000)
	b.Run("present", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, ok, _ := r.Get(ctx, es[(i*7919)%len(es)].Key); !ok {
				b.Fatal("missing")
			}
			i++
		}
	})
	b.Run("absent", func(b *testing.B) {
		absent := make([][]byte, 4096)
		for i := range absent {
			absent[i] = fmt.Appendf(nil, "%016x", (i*7919)%len(es)*2+1)
		}
		i := 0
		for b.Loop() {
			r.Get(ctx, absent[i%len(absent)])
			i++
		}
	})
}

// BenchmarkSSTScan iterates over every entry with a warm cache.
func BenchmarkSSTScan(b *testing.B) {
	r, es := benchReader(b, 200000)
	b.SetBytes(int64(len(es)) * 116)
	for b.Loop() {
		it := r.NewIter(ctx, IterOptions{})
		for ok := it.First(); ok; ok = it.Next() {
		}
		it.Close()
	}
}
