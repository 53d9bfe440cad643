package diskcache

import (
	"context"
	"fmt"
	"testing"
)

func benchCache(b *testing.B, items, size int) (*Cache, []string) {
	b.Helper()
	c := openCache(b, b.TempDir(), Options{Capacity: 1 << 30})
	names := make([]string, items)
	for i := range names {
		names[i] = fmt.Sprintf("%020d-%020d-ab12", i, i*7)
		mustPut(b, c, names[i], size)
	}
	return c, names
}

// BenchmarkGet measures a hit: lookup, open and close of the item's file.
func BenchmarkGet(b *testing.B) {
	c, names := benchCache(b, 256, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h, ok, err := c.Get(names[i%len(names)])
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
		h.Close()
		i++
	}
}

// BenchmarkGetParallel measures hits from all Ps at once, to expose lock contention.
func BenchmarkGetParallel(b *testing.B) {
	c, names := benchCache(b, 256, 4096)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			h, ok, err := c.Get(names[i%len(names)])
			if !ok || err != nil {
				b.Error(ok, err)
				return
			}
			h.Close()
			i++
		}
	})
}

// BenchmarkReadAll measures a hit that reads a 4 KiB item whole.
func BenchmarkReadAll(b *testing.B) {
	c, names := benchCache(b, 256, 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok, err := c.ReadAll(names[i%len(names)]); !ok || err != nil {
			b.Fatal(ok, err)
		}
		i++
	}
}

// BenchmarkGetOrFetchHit measures GetOrFetch when the item is cached.
func BenchmarkGetOrFetchHit(b *testing.B) {
	c, names := benchCache(b, 256, 4096)
	fetch := func(context.Context) ([]byte, error) { panic("miss") }
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.GetOrFetch(ctx, names[i%len(names)], fetch); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPut measures storing a new 4 KiB item in a full cache: write, rename and one
// eviction.
func BenchmarkPut(b *testing.B) {
	c := openCache(b, b.TempDir(), Options{Capacity: 256 * 4096})
	data := content("x", 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := c.Put(fmt.Sprintf("item-%d", i), data); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReadAllSizes measures a hit that reads a blob-sized item whole (the reader's blob
// cache reads cached blobs this way; compare with blobref's BenchmarkVerify).
func BenchmarkReadAllSizes(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			c, names := benchCache(b, 4, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok, err := c.ReadAll(names[i%len(names)]); !ok || err != nil {
					b.Fatal(ok, err)
				}
				i++
			}
		})
	}
}
