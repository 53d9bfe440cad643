package isledb_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// BenchmarkGetWarmRangeSSTs measures random Gets of a reader warmed up on SSTs read by
// range (8 SSTs of about 2.5 MiB, 16-byte keys and 100-byte values, RangeReadMinSSTSize
// 1 MiB) with a block cache far smaller than the data: with background fills the blocks
// come from the SSTs' local files (no request), without them from ranged GETs.
func BenchmarkGetWarmRangeSSTs(b *testing.B) {
	ctx := context.Background()
	store := blobstore.NewMemory("")
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, isledb.WriterOptions{FlushInterval: -1, Compression: "none"})
	if err != nil {
		b.Fatal(err)
	}
	const nSST, perSST = 8, 20_000
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 100)
	key := func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("k-------"), uint64(i)) }
	for s := range nSST {
		for i := range perSST {
			for j := range val {
				val[j] = byte(rng.Uint32())
			}
			if err := w.Put(key(s*perSST+i), val); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Close()
	for _, fill := range []bool{true, false} {
		b.Run(fmt.Sprintf("fill=%v", fill), func(b *testing.B) {
			opts := isledb.DefaultReaderOpenOptions()
			opts.CacheDir = b.TempDir()
			opts.BlockCacheSize = 1 << 20
			opts.RangeReadMinSSTSize = 1 << 20
			opts.DisableSSTBackgroundFill = !fill
			r, err := isledb.OpenReader(ctx, store, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if err := r.RefreshAndPrefetchSSTs(ctx); err != nil {
				b.Fatal(err)
			}
			before := store.Stats()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, ok, err := r.Get(ctx, key(rng.IntN(nSST*perSST))); err != nil || !ok {
					b.Fatal(ok, err)
				}
				n++
			}
			d := store.Stats().Sub(before)
			b.ReportMetric(float64(d.Gets+d.RangedGets)/float64(n), "GETs/op")
		})
	}
}
