package isledb_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// scrape gathers reg and returns every sample as "name{label=value,...}" -> value.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "db" {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
			}
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[name] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[name] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestMetricsScrape writes, reads and compacts through instrumented components on each
// backend, then checks the scraped values and lints the names.
func TestMetricsScrape(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		reg := prometheus.NewRegistry()
		labels := prometheus.Labels{"db": "test"}
		store, err := isledb.InstrumentStore(b.Open(t), isledb.NewBlobStoreMetrics(reg, labels))
		if err != nil {
			t.Fatal(err)
		}
		db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var logs bytes.Buffer
		wopts := isledb.DefaultWriterOptions()
		wopts.FlushInterval = -1
		wopts.WALDir = t.TempDir()
		wopts.Metrics = isledb.NewWriterMetrics(reg, labels)
		wopts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if err := w.Put([]byte(fmt.Sprintf("key-%02d", i)), []byte("value")); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Delete([]byte("key-00")); err != nil {
			t.Fatal(err)
		}
		before := scrape(t, reg)
		if before["isledb_writer_memtable_bytes"] <= 0 {
			t.Errorf("memtable bytes before the flush: %v", before["isledb_writer_memtable_bytes"])
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 3 { // two more L0 SSTs
			if err := w.Put([]byte(fmt.Sprintf("more-%d", i)), []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(logs.String(), "isledb: writer: flushed") {
			t.Errorf("writer log lacks the flushes:\n%s", logs.String())
		}

		ropts := isledb.DefaultReaderOpenOptions()
		ropts.CacheDir = t.TempDir()
		ropts.Metrics = isledb.NewReaderMetrics(reg, labels)
		r, err := isledb.OpenReader(ctx, store, ropts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"key-05", "key-05", "key-00", "nope"} {
			if _, _, err := r.Get(ctx, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}

		copts := isledb.DefaultCompactorOptions()
		copts.L0CompactionThreshold = 2
		copts.Metrics = isledb.NewCompactorMetrics(reg, labels)
		c, err := db.OpenCompactor(ctx, copts)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.RunCompaction(ctx); err != nil {
			t.Fatal(err)
		}
		_ = c.Close() // its counts stay
		_ = w.Close() // so do the writer's
		got := scrape(t, reg)
		for name, want := range map[string]float64{
			"isledb_writer_puts_total":                      23,
			"isledb_writer_deletes_total":                   1,
			"isledb_writer_flushes_total{outcome=ok}":       4,
			"isledb_writer_flush_duration_seconds_count":    4,
			"isledb_writer_memtable_bytes":                  0, // closed
			"isledb_writer_backpressure_total":              0,
			"isledb_reader_gets_total{outcome=found}":       2,
			"isledb_reader_gets_total{outcome=not_found}":   2,
			"isledb_reader_refreshes_total{outcome=ok}":     1,
			"isledb_reader_l0_ssts":                         4,
			"isledb_compactor_jobs_total{outcome=ok}":       1,
			"isledb_compactor_input_ssts_total":             4,
			"isledb_compactor_output_ssts_total":            1,
			"isledb_compactor_gc_passes_total":              1,
			"isledb_compactor_gc_deleted_total{object=sst}": 0, // within the grace period
		} {
			if v, ok := got[name]; !ok || v != want {
				t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
			}
		}
		for _, name := range []string{
			"isledb_writer_write_bytes_total", "isledb_writer_flushed_bytes_total", "isledb_writer_wal_syncs_total",
			"isledb_reader_cache_misses_total{cache=sst}", "isledb_reader_cache_hits_total{cache=block}", "isledb_reader_sst_bytes",
			"isledb_reader_bucket_requests_total{kind=get}",
			"isledb_compactor_input_bytes_total", "isledb_compactor_output_bytes_total",
			"isledb_blobstore_requests_total{kind=put,outcome=ok}", "isledb_blobstore_requests_total{kind=put_if_absent,outcome=ok}",
			"isledb_blobstore_requests_total{kind=list,outcome=ok}", "isledb_blobstore_request_duration_seconds{kind=get}_count",
			"isledb_blobstore_transferred_bytes_total{direction=written}",
		} {
			if got[name] <= 0 {
				t.Errorf("%s = %v, want > 0", name, got[name])
			}
		}
		if got["isledb_reader_refresh_lag_seconds"] < 0 {
			t.Errorf("refresh lag %v", got["isledb_reader_refresh_lag_seconds"])
		}
		_ = r.Close()
		after := scrape(t, reg)
		if after["isledb_reader_gets_total{outcome=found}"] != 2 || after["isledb_reader_cache_misses_total{cache=sst}"] < got["isledb_reader_cache_misses_total{cache=sst}"] {
			t.Errorf("a closed reader's counts went away: %v", after)
		}
		problems, err := promtest.GatherAndLint(reg)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
		for name := range got {
			if !strings.HasPrefix(name, "isledb_") {
				t.Errorf("metric %s lacks the isledb_ prefix", name)
			}
		}
	})
}

// TestMetricsSharedRegistry: two writers' metrics made with the same labels on one
// registry share their series instead of failing to register.
func TestMetricsSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := isledb.NewWriterMetrics(reg, prometheus.Labels{"db": "x"})
	b := isledb.NewWriterMetrics(reg, prometheus.Labels{"db": "x"})
	ctx := context.Background()
	for _, m := range []*isledb.WriterMetrics{a, b} {
		db, err := isledb.OpenDB(ctx, testutil.Backends(testutil.Core)[0].Open(t), isledb.DBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		opts := isledb.DefaultWriterOptions()
		opts.Metrics = m
		w, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Put([]byte("k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
	}
	if got := scrape(t, reg)["isledb_writer_puts_total"]; got != 2 {
		t.Errorf("puts %v, want 2", got)
	}
	if isledb.DefaultWriterMetrics() != isledb.DefaultWriterMetrics() {
		t.Error("DefaultWriterMetrics made two values")
	}
}
