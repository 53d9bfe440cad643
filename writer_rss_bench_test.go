package isledb_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/benchkit"
)

// BenchmarkWriterPeakRSS writes ISLEDB_BENCH_RSS_MB MiB (default 1024) of keys and values
// with a default writer and reports the process's peak resident set size: peak-RSS-MiB,
// RSS-MiB/GB (per GB written) and x-budget (the peak over the writer's nominal memtable
// budget, MemtableSize x (MaxImmutableMemtables+1), 320 MiB by default), with put
// throughput. Buckets: "file" (a local directory) and "slow" (the same behind
// benchkit.SimBackend's S3-like latency and 100 MB/s per request, so flushes lag and the
// memtable queue fills). Linux only (peak RSS is read from /proc). docs/memory.md has the
// figures; run one pass of each with
//
//	go test -run '^$' -bench BenchmarkWriterPeakRSS -benchtime 1x .
func BenchmarkWriterPeakRSS(b *testing.B) {
	if err := benchkit.ResetPeakRSS(); errors.Is(err, benchkit.ErrRSSUnsupported) {
		b.Skip(err)
	}
	volume := int64(1024) << 20
	if s := os.Getenv("ISLEDB_BENCH_RSS_MB"); s != "" {
		mb, err := strconv.ParseInt(s, 10, 64)
		if err != nil || mb <= 0 {
			b.Fatalf("ISLEDB_BENCH_RSS_MB=%q: want a positive number of MiB", s)
		}
		volume = mb << 20
	}
	for _, bucket := range []string{"file", "slow"} {
		for _, vsize := range []int{100, 1000} {
			b.Run(fmt.Sprintf("bucket=%s/value=%d", bucket, vsize), func(b *testing.B) {
				var r rssRun
				for b.Loop() {
					r = writeForRSS(b, bucket, vsize, volume)
				}
				budget := float64(isledb.DefaultMemtableSize * (isledb.DefaultMaxImmutableMemtables + 1))
				gb := float64(r.written) / 1e9
				b.ReportMetric(float64(r.peak)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(r.peak)/(1<<20)/gb, "RSS-MiB/GB")
				b.ReportMetric(float64(r.peak)/budget, "x-budget")
				b.ReportMetric(float64(r.puts)/r.elapsed.Seconds(), "puts/s")
				b.ReportMetric(float64(r.written)/1e6/r.elapsed.Seconds(), "MB/s")
			})
		}
	}
}

type rssRun struct {
	peak    int64 // bytes
	written int64 // key and value bytes
	puts    int
	elapsed time.Duration // the puts and Close
}

// writeForRSS writes volume bytes of 16-byte keys in random order and incompressible
// values of vsize bytes with a default writer, and returns the peak RSS from the first
// put to the end of Close.
func writeForRSS(b *testing.B, bucket string, vsize int, volume int64) rssRun {
	ctx := context.Background()
	store, err := blobstore.NewFile(ctx, filepath.Join(b.TempDir(), "bucket"), "db")
	if err != nil {
		b.Fatal(err)
	}
	if bucket == "slow" {
		store = blobstore.NewWithBackend(benchkit.NewSimBackend(store.Backend(), benchkit.SimOptions{}), "slow", "db")
	}
	defer store.Close()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, isledb.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rnd := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(rnd); i += 8 {
		binary.LittleEndian.PutUint64(rnd[i:], rng.Uint64())
	}
	key := make([]byte, 16)

	runtime.GC()
	debug.FreeOSMemory()
	if err := benchkit.ResetPeakRSS(); err != nil {
		b.Fatal(err)
	}
	var r rssRun
	start := time.Now()
	for r.written < volume {
		i := uint64(r.puts)
		binary.BigEndian.PutUint64(key, i*0x9E3779B97F4A7C15)
		binary.BigEndian.PutUint64(key[8:], i)
		off := int(i*7919) % (len(rnd) - vsize)
		value := rnd[off : off+vsize]
		for {
			err := w.Put(key, value)
			if err == nil {
				break
			}
			if !errors.Is(err, isledb.ErrBackpressure) {
				b.Fatal(err)
			}
			time.Sleep(100 * time.Microsecond) // the flush queue is full: let it drain
		}
		r.written += int64(len(key) + vsize)
		r.puts++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r.elapsed = time.Since(start)
	if r.peak, err = benchkit.PeakRSS(); err != nil {
		b.Fatal(err)
	}
	return r
}
