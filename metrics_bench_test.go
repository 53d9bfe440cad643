package isledb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// BenchmarkGetCachedMetrics measures a Get served from the block cache without metrics
// (nil, the default) and with ReaderMetrics, to show what the hooks cost.
func BenchmarkGetCachedMetrics(b *testing.B) {
	ctx := context.Background()
	store := blobstore.NewMemory("")
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, isledb.WriterOptions{FlushInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := w.Put([]byte(fmt.Sprintf("key-%04d", i)), []byte("value")); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		metrics *isledb.ReaderMetrics
	}{{"nil", nil}, {"prometheus", isledb.NewReaderMetrics(prometheus.NewRegistry(), nil)}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := isledb.DefaultReaderOpenOptions()
			opts.CacheDir = b.TempDir()
			opts.Metrics = tc.metrics
			r, err := isledb.OpenReader(ctx, store, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			key := []byte("key-0500")
			if _, ok, err := r.Get(ctx, key); err != nil || !ok {
				b.Fatal(ok, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.Get(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
