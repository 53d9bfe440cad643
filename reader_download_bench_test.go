package isledb_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/benchkit"
)

// BenchmarkColdWholeSSTGet measures the first Get of a fresh reader on a simulated S3
// store (25 ms to first byte, 100 MB/s) whose one SST (about 3.5 MiB, below
// RangeReadMinSSTSize) is downloaded whole into the disk cache, verified, then read.
func BenchmarkColdWholeSSTGet(b *testing.B) {
	ctx := context.Background()
	opts := benchkit.DefaultSimOptions()
	opts.Get = benchkit.Latency{P50: opts.Get.P50, P99: opts.Get.P50} // no jitter
	opts.Put = benchkit.Latency{P50: 1e6, P99: 1e6}                   // 1 ms: quick setup
	store := benchkit.NewSimStore("cold", opts)
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, isledb.WriterOptions{FlushInterval: -1, Compression: "none"})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 1000)
	key := func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("k-------"), uint64(i)) }
	const n = 3500
	for i := range n {
		for j := range val {
			val[j] = byte(rng.Uint32())
		}
		if err := w.Put(key(i), val); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	_ = w.Close()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ropts := isledb.DefaultReaderOpenOptions()
		ropts.CacheDir = b.TempDir()
		r, err := isledb.OpenReader(ctx, store, ropts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, ok, err := r.Get(ctx, key(n/2)); err != nil || !ok {
			b.Fatal(ok, err)
		}
		b.StopTimer()
		if s := r.SSTCacheStats(); s.DiskMisses != 1 {
			b.Fatalf("stats %v: want one whole download", s)
		}
		_ = r.Close()
		b.StartTimer()
	}
}
