package sstable

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	psst "github.com/cockroachdb/pebble/v2/sstable"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
)

const (
	numEntries = 1_000_000
	keySize    = 16
	valueSize  = 100
	blockSize  = 4096
	bloomBits  = 10
	cacheSize  = 1 << 30
)

var ctx = context.Background()

// dataset holds the benchmark entries: keys are the even numbers in zero-padded hex, so
// the odd ones are absent keys inside the table's range.
type dataset struct {
	keys, absent [][]byte
	values       [][]byte
	order        []int32 // a random permutation of the entries, for lookups
	rawBytes     int64
}

var (
	dataOnce sync.Once
	data     dataset
)

// xorshift is a tiny deterministic generator, so that every run uses the same data.
type xorshift uint64

func (x *xorshift) next() uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return uint64(*x)
}

func getData() *dataset {
	dataOnce.Do(func() {
		rng := xorshift(0x9e3779b97f4a7c15)
		keyArena := make([]byte, 0, 2*numEntries*keySize)
		valArena := make([]byte, numEntries*valueSize)
		data.keys = make([][]byte, numEntries)
		data.absent = make([][]byte, numEntries)
		data.values = make([][]byte, numEntries)
		for i := range numEntries {
			start := len(keyArena)
			keyArena = fmt.Appendf(keyArena, "%016x", uint64(i)*2)
			data.keys[i] = keyArena[start:len(keyArena):len(keyArena)]
			start = len(keyArena)
			keyArena = fmt.Appendf(keyArena, "%016x", uint64(i)*2+1)
			data.absent[i] = keyArena[start:len(keyArena):len(keyArena)]
			// Half random bytes, half a repeated pattern: compresses to about 50%.
			v := valArena[i*valueSize : (i+1)*valueSize : (i+1)*valueSize]
			for j := 0; j < valueSize/2; j += 8 {
				r := rng.next()
				for k := 0; k < 8 && j+k < valueSize/2; k++ {
					v[j+k] = byte(r >> (8 * k))
				}
			}
			for j := valueSize / 2; j < valueSize; j++ {
				v[j] = "abcdefgh"[j%8]
			}
			data.values[i] = v
		}
		data.order = make([]int32, numEntries)
		for i := range data.order {
			data.order[i] = int32(i)
		}
		for i := len(data.order) - 1; i > 0; i-- {
			j := int(rng.next() % uint64(i+1))
			data.order[i], data.order[j] = data.order[j], data.order[i]
		}
		data.rawBytes = numEntries * (keySize + valueSize)
	})
	return &data
}

// impls are the table builders under comparison.
var impls = []string{"isledb", "pebble-row", "pebble-col"}

func pebbleFormat(impl string) psst.TableFormat {
	if impl == "pebble-col" {
		return psst.TableFormatPebblev5
	}
	return psst.TableFormatPebblev4
}

func pebbleCompression(name string) *psst.CompressionProfile {
	switch name {
	case "none":
		return psst.NoCompression
	case "zstd":
		return psst.ZstdCompression
	}
	return psst.SnappyCompression
}

// memWritable is an in-memory objstorage.Writable for Pebble's writer.
type memWritable struct{ buf *bytes.Buffer }

func (w memWritable) Write(p []byte) error { w.buf.Write(p); return nil }
func (w memWritable) Finish() error        { return nil }
func (w memWritable) Abort()               {}

// buildTable writes the dataset with impl and compression into buf.
func buildTable(tb testing.TB, impl, compression string, buf *bytes.Buffer) {
	d := getData()
	buf.Reset()
	if impl == "isledb" {
		w, err := sstable.NewWriter(buf, sstable.WriterOptions{
			BlockSize:       blockSize,
			BloomBitsPerKey: bloomBits,
			Compression:     compression,
		})
		if err != nil {
			tb.Fatal(err)
		}
		for i := range numEntries {
			if err := w.Add(sstable.Entry{Key: d.keys[i], Value: d.values[i], Seq: base.SeqNum(numEntries - i), Kind: base.KindValue}); err != nil {
				tb.Fatal(err)
			}
		}
		if _, err := w.Finish(); err != nil {
			tb.Fatal(err)
		}
		return
	}
	w := psst.NewWriter(memWritable{buf}, psst.WriterOptions{
		BlockSize:      blockSize,
		IndexBlockSize: blockSize,
		FilterPolicy:   bloom.FilterPolicy(bloomBits),
		Compression:    pebbleCompression(compression),
		TableFormat:    pebbleFormat(impl),
	})
	for i := range numEntries {
		if err := w.Set(d.keys[i], d.values[i]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkBuild(b *testing.B) {
	d := getData()
	var buf bytes.Buffer
	buf.Grow(200 << 20)
	// Implementations are the innermost level, so that the runs being compared are
	// adjacent in time on a shared machine.
	for _, comp := range []string{"none", "snappy", "zstd", "lz4"} {
		for _, impl := range impls {
			if comp == "lz4" && impl != "isledb" {
				continue // Pebble has no lz4
			}
			b.Run(comp+"/"+impl, func(b *testing.B) {
				b.SetBytes(d.rawBytes)
				for b.Loop() {
					buildTable(b, impl, comp, &buf)
				}
				b.ReportMetric(float64(buf.Len()), "file-bytes")
			})
		}
	}
}

// A lookup handle over one built table, with every block in its cache.
type table interface {
	get(key []byte) bool
	scan() int
}

var (
	tablesMu sync.Mutex
	tables   = map[string]table{}
)

func getTable(b *testing.B, impl string) table {
	tablesMu.Lock()
	defer tablesMu.Unlock()
	if t, ok := tables[impl]; ok {
		return t
	}
	var buf bytes.Buffer
	buildTable(b, impl, "snappy", &buf)
	sst := buf.Bytes()
	var t table
	if impl == "isledb" {
		r, err := sstable.OpenBytes(sst, sstable.ReaderOptions{Cache: sstable.NewLRUCache(cacheSize)})
		if err != nil {
			b.Fatal(err)
		}
		t = &isleTable{r: r}
	} else {
		c := pebble.NewCache(cacheSize)
		policy := bloom.FilterPolicy(bloomBits)
		opts := psst.ReaderOptions{Filters: map[string]psst.FilterPolicy{policy.Name(): policy}}
		opts.CacheOpts.CacheHandle = c.NewHandle()
		opts.CacheOpts.FileNum = 1
		r, err := psst.NewMemReader(sst, opts)
		if err != nil {
			b.Fatal(err)
		}
		it, err := r.NewPointIter(ctx, psst.IterOptions{
			Transforms:           psst.NoTransforms,
			FilterBlockSizeLimit: psst.AlwaysUseFilterBlock,
			Env:                  psst.NoReadEnv,
			ReaderProvider:       psst.MakeTrivialReaderProvider(r),
		})
		if err != nil {
			b.Fatal(err)
		}
		t = &pebbleTable{r: r, it: it}
	}
	if n := t.scan(); n != numEntries { // warms the cache
		b.Fatalf("%s: scanned %d entries", impl, n)
	}
	tables[impl] = t
	return t
}

type isleTable struct{ r *sstable.Reader }

func (t *isleTable) get(key []byte) bool {
	_, ok, err := t.r.Get(ctx, key)
	return ok && err == nil
}

func (t *isleTable) scan() int {
	it := t.r.NewIter(ctx, sstable.IterOptions{})
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	it.Close()
	return n
}

type pebbleTable struct {
	r  *psst.Reader
	it psst.Iterator
}

func (t *pebbleTable) get(key []byte) bool {
	kv := t.it.SeekPrefixGE(key, key, 0)
	return kv != nil && bytes.Equal(kv.K.UserKey, key) && len(kv.InPlaceValue()) > 0
}

func (t *pebbleTable) scan() int {
	n := 0
	for kv := t.it.First(); kv != nil; kv = t.it.Next() {
		n++
	}
	return n
}

func benchGet(b *testing.B, keys [][]byte, want bool) {
	d := getData()
	for _, impl := range impls {
		b.Run(impl, func(b *testing.B) {
			t := getTable(b, impl)
			i := 0
			for b.Loop() {
				k := keys[d.order[i]]
				if t.get(k) != want {
					b.Fatalf("%s: get(%s) != %v", impl, k, want)
				}
				i++
				if i == len(d.order) {
					i = 0
				}
			}
		})
	}
}

func BenchmarkGet(b *testing.B) { benchGet(b, getData().keys, true) }

func BenchmarkGetAbsent(b *testing.B) {
	d := getData()
	// An absent key may pass the bloom filter (~1%); accept either answer but require
	// "absent" for the run to count as meaningful.
	for _, impl := range impls {
		b.Run(impl, func(b *testing.B) {
			t := getTable(b, impl)
			i, found := 0, 0
			for b.Loop() {
				if t.get(d.absent[d.order[i]]) {
					found++
				}
				i++
				if i == len(d.order) {
					i = 0
				}
			}
			if found > 0 {
				b.Fatalf("%s: found %d absent keys", impl, found)
			}
		})
	}
}

func BenchmarkScan(b *testing.B) {
	d := getData()
	for _, impl := range impls {
		b.Run(impl, func(b *testing.B) {
			t := getTable(b, impl)
			b.SetBytes(d.rawBytes)
			for b.Loop() {
				if n := t.scan(); n != numEntries {
					b.Fatalf("scanned %d", n)
				}
			}
		})
	}
}
