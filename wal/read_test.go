package wal

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestOpenSegmentsBounded(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 4
	o.MaxOpenSegments = 3
	w := mustOpen(t, o)
	defer mustClose(t, w)
	mustAppendN(t, w, "s", 0, 100) // 25 segments
	for round := 0; round < 2; round++ {
		for i := 0; i < 100; i += 3 {
			if _, err := w.Get("s", SeqNum(i)); err != nil {
				t.Fatal(err)
			}
			if n := w.Metrics().OpenSegmentFiles; n > o.MaxOpenSegments {
				t.Fatalf("%d segment files open, limit %d", n, o.MaxOpenSegments)
			}
		}
	}
	// Iterators pin their segment; the LRU still bounds the rest.
	its := make([]*Iterator, 5)
	for i := range its {
		it, err := w.Iter("s", SeqNum(i*20))
		if err != nil {
			t.Fatal(err)
		}
		if !it.Next() {
			t.Fatal(it.Err())
		}
		its[i] = it
	}
	if n := w.Metrics().OpenSegmentFiles; n > o.MaxOpenSegments+len(its) {
		t.Fatalf("%d segment files open with %d iterators, limit %d", n, len(its), o.MaxOpenSegments)
	}
	for _, it := range its {
		it.Close()
	}
	for i := 0; i < 100; i += 9 {
		w.Get("s", SeqNum(i))
	}
	if n := w.Metrics().OpenSegmentFiles; n > o.MaxOpenSegments {
		t.Fatalf("%d segment files open after iterators closed, limit %d", n, o.MaxOpenSegments)
	}
}

// TestReadStrategiesAgree reads the same log with pread, mmap and the block cache.
func TestReadStrategiesAgree(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 50
	o.Compression = CompressionLZ4
	o.MinCompressionSize = 100
	w := mustOpen(t, o)
	rng := rand.New(rand.NewPCG(1, 2))
	var want [][]byte
	for i := 0; i < 400; i++ {
		e := make([]byte, rng.IntN(3000))
		if i%2 == 0 {
			for j := range e {
				e[j] = byte(rng.IntN(256))
			}
		} else {
			copy(e, bytes.Repeat([]byte("compressible "), len(e)/13+1))
		}
		want = append(want, e)
		if _, err := w.Append("s", e); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	for _, c := range []struct {
		name  string
		rs    ReadStrategy
		cache int64
	}{{"standard", ReadStandardIO, 0}, {"mmap", ReadMmap, 0}, {"blockcache", ReadStandardIO, 64 << 10}} {
		t.Run(c.name, func(t *testing.T) {
			o := o
			o.ReadStrategy, o.BlockCacheSize = c.rs, c.cache
			w := mustOpen(t, o)
			defer mustClose(t, w)
			for pass := 0; pass < 2; pass++ {
				for _, i := range rng.Perm(len(want)) {
					got, err := w.Get("s", SeqNum(i))
					if err != nil || !bytes.Equal(got, want[i]) {
						t.Fatalf("Get %d: %v", i, err)
					}
				}
			}
			for _, start := range []SeqNum{0, 49, 50, 51, 399} {
				ids, es := collect(t, w, "s", start)
				if len(ids) != 400-int(start) {
					t.Fatalf("Iter from %d: %d entries", start, len(ids))
				}
				for k, id := range ids {
					if !bytes.Equal(es[k], want[id]) {
						t.Fatalf("Iter entry %d differs", id)
					}
				}
			}
			m := w.Metrics()
			if c.cache > 0 && (m.BlockCacheHits == 0 || m.BlockCacheMisses == 0) {
				t.Fatalf("block cache unused: %v", m)
			}
			if c.rs == ReadMmap && mmapSupported {
				s, _ := w.lookup("s")
				h, err := w.handles.acquire(s.segments()[0], true)
				if err != nil {
					t.Fatal(err)
				}
				if h.data == nil {
					t.Fatal("sealed segment not mapped")
				}
				w.handles.release(h)
			}
		})
	}
}

func TestCompressionRoundTrip(t *testing.T) {
	sizeWith := func(c Compression) (uint64, [][]byte) {
		o := testOptions(t)
		o.Compression = c
		o.MinCompressionSize = 64
		w := mustOpen(t, o)
		var entries [][]byte
		for i := 0; i < 100; i++ {
			var e []byte
			switch i % 4 {
			case 0:
				e = bytes.Repeat([]byte{byte(i)}, 1000) // very compressible
			case 1:
				e = []byte("tiny") // below MinCompressionSize
			case 2:
				e = bytes.Repeat([]byte("x"), 63) // just below
			case 3:
				r := rand.New(rand.NewPCG(uint64(i), 0))
				e = make([]byte, 500) // incompressible: stored raw
				for j := range e {
					e[j] = byte(r.IntN(256))
				}
			}
			entries = append(entries, e)
			if _, err := w.Append("s", e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		n := w.Metrics().BytesWritten
		mustClose(t, w)
		w = mustOpen(t, o)
		defer mustClose(t, w)
		_, got := collect(t, w, "s", 0)
		for i := range entries {
			if !bytes.Equal(got[i], entries[i]) {
				t.Fatalf("%v: entry %d differs after reopen", c, i)
			}
		}
		return n, entries
	}
	plain, _ := sizeWith(CompressionNone)
	lz, _ := sizeWith(CompressionLZ4)
	if lz >= plain/2 {
		t.Fatalf("LZ4 wrote %d bytes, uncompressed %d", lz, plain)
	}
}

func TestIteratorContract(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 3
	w := mustOpen(t, o)
	defer mustClose(t, w)
	mustAppendN(t, w, "s", 0, 10)
	it, err := w.Iter("s", 4)
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, w, "s", 10, 5) // not visible: the iterator ends where the stream ended
	n := 0
	for it.Next() {
		if it.ID() != SeqNum(4+n) || !bytes.Equal(it.Entry(), entryFor(it.ID())) {
			t.Fatalf("entry %d: %q", it.ID(), it.Entry())
		}
		n++
	}
	if n != 6 || it.Err() != nil {
		t.Fatalf("read %d, err %v", n, it.Err())
	}
	if it.Next() {
		t.Fatal("Next after the end")
	}
	it.Close()
	it.Close()
	// Closing early stops the iterator.
	it, _ = w.Iter("s", 0)
	it.Next()
	it.Close()
	if it.Next() || it.Err() != nil || it.Entry() != nil {
		t.Fatal("iterator usable after Close")
	}
	// A start before the first segment begins at the first entry left.
	if _, err := w.Truncate("s", 7); err != nil {
		t.Fatal(err)
	}
	ids, _ := collect(t, w, "s", 0)
	if ids[0] != 6 {
		t.Fatalf("first entry after truncation %d, want 6", ids[0])
	}
}
