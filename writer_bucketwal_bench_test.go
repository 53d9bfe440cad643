package isledb_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/benchkit"
	"github.com/isledb/isledb/internal/testutil"
)

// BenchmarkBucketWALDurableAck measures durable acknowledgement with the bucket WAL
// (BucketWALEachWrite: each Put returns once its group's WAL object is in the bucket) at
// 1, 8, 64 and 512 concurrent writers, on simulated S3 (25 ms p50, 70 ms p99 per PUT) and
// on MinIO (ISLEDB_TEST_S3_ENDPOINT). Each run writes for ISLEDB_BENCH_WAL_SECONDS
// (default 3) seconds, 16-byte keys and 100-byte values; run it with -benchtime=1x.
// Reported: p50-ms and p99-ms of Put, writes/s, WAL PUTs per logical MB (keys and values
// written), and all PUTs (WAL objects, SSTs, manifest) per logical MB.
func BenchmarkBucketWALDurableAck(b *testing.B) {
	dur := 3 * time.Second
	if s := os.Getenv("ISLEDB_BENCH_WAL_SECONDS"); s != "" {
		var secs float64
		if _, err := fmt.Sscan(s, &secs); err == nil && secs > 0 {
			dur = time.Duration(secs * float64(time.Second))
		}
	}
	type backend struct {
		name string
		open func(b *testing.B) *blobstore.Store
	}
	backends := []backend{{"sim-s3", func(b *testing.B) *blobstore.Store {
		return benchkit.NewSimStore("db", benchkit.DefaultSimOptions())
	}}}
	for _, be := range testutil.Backends(testutil.Core) {
		if be.Server {
			backends = append(backends, backend{be.Name, func(b *testing.B) *blobstore.Store { return be.Open(b) }})
		}
	}
	for _, be := range backends {
		for _, conc := range []int{1, 8, 64, 512} {
			b.Run(fmt.Sprintf("%s/each/writers=%d", be.name, conc), func(b *testing.B) {
				for range b.N {
					runDurableAck(b, be.open(b), conc, 1, dur)
				}
			})
		}
		// Pipelined: BucketWALOnSync, each writer Syncs after every 100 Puts (the latency is
		// that of a Sync, the acknowledgement of its 100 writes).
		for _, conc := range []int{1, 8, 64, 512} {
			b.Run(fmt.Sprintf("%s/sync100/writers=%d", be.name, conc), func(b *testing.B) {
				for range b.N {
					runDurableAck(b, be.open(b), conc, 100, dur)
				}
			})
		}
	}
}

// runDurableAck runs conc writers for dur; with every > 1 each Syncs after every Puts
// (BucketWALOnSync) and the latency recorded is the Sync's.
func runDurableAck(b *testing.B, store *blobstore.Store, conc, every int, dur time.Duration) {
	ctx := context.Background()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	o := isledb.DefaultWriterOptions()
	o.BucketWAL = isledb.BucketWALEachWrite
	if every > 1 {
		o.BucketWAL = isledb.BucketWALOnSync
	}
	w, err := db.OpenWriter(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	before, walBefore := store.Stats(), w.BucketWALStats()
	hists := make([]benchkit.Histogram, conc)
	counts := make([]int, conc)
	value := make([]byte, 100)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := make([]byte, 16)
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				for j := range every {
					copy(key, fmt.Appendf(key[:0], "%04d-%011d", g%10000, i*every+j))
					if err := w.Put(key, value); err != nil {
						b.Error(err)
						return
					}
				}
				if every > 1 {
					if err := w.Sync(ctx); err != nil {
						b.Error(err)
						return
					}
				}
				hists[g].Record(time.Since(t0))
				counts[g] += every
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var h benchkit.Histogram
	n := 0
	for g := range conc {
		h.Merge(&hists[g])
		n += counts[g]
	}
	st, ws := store.Stats().Sub(before), w.BucketWALStats()
	mb := float64(n*(16+100)) / 1e6
	b.ReportMetric(float64(h.Quantile(0.50))/1e6, "p50-ms")
	b.ReportMetric(float64(h.Quantile(0.99))/1e6, "p99-ms")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(ws.Objects-walBefore.Objects)/mb, "walPUTs/MB")
	b.ReportMetric(float64(st.Puts+st.CondPuts)/mb, "PUTs/MB")
	b.ReportMetric(float64(n)/float64(max(ws.Objects-walBefore.Objects, 1)), "writes/object")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
