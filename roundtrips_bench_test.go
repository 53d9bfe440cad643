package isledb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/benchkit"
	"github.com/isledb/isledb/manifest"
)

// BenchmarkManifestRoundTrips measures, on simulated S3 (25 ms p50, 70 ms p99 per
// request), the latency of a durable flush (one Put, then Flush) and of opening a reader,
// on a log that ends at a snapshot ("open-at-snapshot") and one with 40 entries after it
// ("open-40-after"). Reported: p50 in ms and requests per operation.
//
//	go test -run '^$' -bench BenchmarkManifestRoundTrips -benchtime 1x .
func BenchmarkManifestRoundTrips(b *testing.B) {
	ctx := context.Background()
	const samples = 60
	p50 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.Run("flush", func(b *testing.B) {
		store := benchkit.NewSimStore("db", benchkit.SimOptions{})
		db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		wopts := isledb.DefaultWriterOptions()
		wopts.FlushInterval = time.Hour
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		var lat []time.Duration
		before := store.Stats()
		for i := range samples {
			start := time.Now()
			if err := w.Put(fmt.Appendf(nil, "k%06d", i), []byte("v")); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		d := store.Stats().Sub(before)
		b.ReportMetric(p50(lat), "p50-ms")
		b.ReportMetric(float64(d.Requests())/samples, "req/op")
		b.ReportMetric(float64(d.Lists)/samples, "LIST/op")
	})
	for _, after := range []int{0, 40} {
		name := "open-at-snapshot"
		if after > 0 {
			name = fmt.Sprintf("open-%d-after", after)
		}
		b.Run(name, func(b *testing.B) {
			store := benchkit.NewSimStore("db", benchkit.SimOptions{})
			db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
			if err != nil {
				b.Fatal(err)
			}
			flush := func(i int) {
				if err := w.Put(fmt.Appendf(nil, "k%06d", i), []byte("v")); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			flush(0)
			ms := manifest.NewStore(store)
			m, err := ms.Replay(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ms.WriteSnapshot(ctx, m); err != nil {
				b.Fatal(err)
			}
			for i := range after {
				flush(1 + i)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			before := store.Stats()
			for range samples / 3 {
				start := time.Now()
				r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				_ = r.Close()
			}
			d := store.Stats().Sub(before)
			b.ReportMetric(p50(lat), "p50-ms")
			b.ReportMetric(float64(d.Requests())/float64(samples/3), "req/op")
		})
	}
}

// BenchmarkTailRoundTrips measures, on simulated S3 (25 ms p50, 70 ms p99 per request),
// a write (Put, then Flush) until a TailingReader polling every 10 ms has it: "visible-ms"
// when the reader's manifest names the new SST (what a Get needs to find it), and
// "delivered-ms" when Tail hands the key over (after fetching the SST). Also: the flush
// alone, and the requests of writer and tailer together per tailed write.
//
//	go test -run '^$' -bench BenchmarkTailRoundTrips -benchtime 1x .
func BenchmarkTailRoundTrips(b *testing.B) {
	ctx := context.Background()
	const samples = 100
	store := benchkit.NewSimStore("db", benchkit.SimOptions{})
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = time.Hour
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	tr, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{
		RefreshInterval: 10 * time.Millisecond,
		ReaderOptions:   isledb.ReaderOpenOptions{CacheDir: b.TempDir()},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Start(); err != nil {
		b.Fatal(err)
	}
	kvs, _ := tr.TailChannel(ctx, isledb.TailOptions{PollInterval: 10 * time.Millisecond})
	var flushed, visible, delivered []time.Duration
	before := store.Stats()
	for i := range samples {
		seq := tr.Reader().ManifestUnsafe().LogSeq
		start := time.Now()
		if err := w.Put(fmt.Appendf(nil, "k%06d", i), []byte("v")); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		flushed = append(flushed, time.Since(start))
		for tr.Reader().ManifestUnsafe().LogSeq == seq {
			time.Sleep(200 * time.Microsecond)
		}
		visible = append(visible, time.Since(start))
		<-kvs
		delivered = append(delivered, time.Since(start))
	}
	d := store.Stats().Sub(before)
	p50 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(p50(flushed), "flush-ms")
	b.ReportMetric(p50(visible), "visible-ms")
	b.ReportMetric(p50(delivered), "delivered-ms")
	b.ReportMetric(float64(d.Requests())/samples, "req/write")
	b.ReportMetric(float64(d.Gets+d.RangedGets)/samples, "GET/write")
}
