package isledb

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isledb/isledb/internal/base"
)

// WriterMetrics are the Prometheus metrics of writers (WriterOptions.Metrics). Make one
// with NewWriterMetrics or DefaultWriterMetrics; nil means none. Safe for concurrent use by
// any number of writers.
type WriterMetrics struct {
	puts, deletes prometheus.Counter
	writeBytes    prometheus.Counter
	backpressure  prometheus.Counter
	flushes       *prometheus.CounterVec
	flushSeconds  prometheus.Histogram
	flushedBytes  prometheus.Counter
	scrape        *writerCollector
}

// writerCollector reports what the live writers hold at scrape time.
type writerCollector struct {
	memtable, walSyncs *prometheus.Desc
	writers            attached[*Writer]
	retiredSyncs       uint64 // WAL syncs of closed writers
}

// NewWriterMetrics returns writer metrics registered on reg (nil: not registered, e.g.
// to register the value yourself later; it is a prometheus.Collector only through reg),
// each series carrying constLabels.
func NewWriterMetrics(reg prometheus.Registerer, constLabels prometheus.Labels) *WriterMetrics {
	c := func(name, help string) prometheus.Counter {
		return register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: constLabels}))
	}
	m := &WriterMetrics{
		puts:         c("isledb_writer_puts_total", "Puts accepted (Put, PutWithTTL)."),
		deletes:      c("isledb_writer_deletes_total", "Deletes accepted (Delete, DeleteWithTTL)."),
		writeBytes:   c("isledb_writer_write_bytes_total", "Bytes of keys and values accepted."),
		backpressure: c("isledb_writer_backpressure_total", "Writes refused with ErrBackpressure (every immutable memtable slot waiting for its flush)."),
		flushedBytes: c("isledb_writer_flushed_bytes_total", "Bytes of SSTs flushed to the bucket."),
		flushes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isledb_writer_flushes_total",
			Help: "Flush attempts of a memtable, by outcome (ok or error; a failed one is retried).", ConstLabels: constLabels}, []string{"outcome"})),
		flushSeconds: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{Name: "isledb_writer_flush_duration_seconds",
			Help: "Duration of flush attempts (blobs, SST upload, manifest append).", ConstLabels: constLabels,
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})),
		scrape: &writerCollector{
			memtable: newDesc("isledb_writer_memtable_bytes", "Bytes held in memtables (the active one and those waiting for their flush).", constLabels),
			walSyncs: newDesc("isledb_writer_wal_syncs_total", "Fsyncs of the writers' WALs.", constLabels),
		},
	}
	m.scrape = register(reg, m.scrape)
	return m
}

var defaultWriterMetrics = sync.OnceValue(func() *WriterMetrics {
	return NewWriterMetrics(prometheus.DefaultRegisterer, nil)
})

// DefaultWriterMetrics returns the process's writer metrics on
// prometheus.DefaultRegisterer (made on the first call).
func DefaultWriterMetrics() *WriterMetrics { return defaultWriterMetrics() }

func (c *writerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.memtable; ch <- c.walSyncs }

func (c *writerCollector) Collect(ch chan<- prometheus.Metric) {
	var mem int64
	syncs := c.retiredSyncs
	c.writers.each(func(w *Writer) {
		mem += w.memtableBytes()
		syncs += w.walSyncs()
	})
	ch <- prometheus.MustNewConstMetric(c.memtable, prometheus.GaugeValue, float64(mem))
	ch <- prometheus.MustNewConstMetric(c.walSyncs, prometheus.CounterValue, float64(syncs))
}

// The hooks the writer calls (one line each in writer.go); with no Metrics and the
// default Logger they cost a nil check.

func (m *WriterMetrics) attach(w *Writer) {
	if m != nil {
		m.scrape.writers.add(w)
	}
}

func (m *WriterMetrics) detach(w *Writer) {
	if m != nil {
		m.scrape.writers.remove(w, func(w *Writer) { m.scrape.retiredSyncs += w.walSyncs() })
	}
}

// observeWrite counts an accepted write.
func (w *Writer) observeWrite(kind base.Kind, key, value []byte) {
	m := w.opts.Metrics
	if m == nil {
		return
	}
	if kind == base.KindDelete {
		m.deletes.Inc()
	} else {
		m.puts.Inc()
	}
	m.writeBytes.Add(float64(len(key) + len(value)))
}

// observeRefused counts a write refused with ErrBackpressure.
func (w *Writer) observeRefused() {
	if m := w.opts.Metrics; m != nil {
		m.backpressure.Inc()
	}
	w.opts.Logger.Debug("isledb: writer: write refused: backpressure", "immutable_memtables", w.opts.MaxImmutableMemtables)
}

// observeFlush runs one flush attempt of f, timing, counting and logging it.
func (w *Writer) observeFlush(f *frozen, attempt func() error) error {
	start := time.Now()
	err := attempt()
	d := time.Since(start)
	var size int
	if f.built != nil {
		size = len(f.built.data)
	}
	if err != nil {
		w.opts.Logger.Warn("isledb: writer: flush failed (retried unless the writer was fenced)", "error", err, "duration", d)
	} else if w.opts.Logger.Enabled(context.Background(), slog.LevelDebug) {
		w.opts.Logger.Debug("isledb: writer: flushed", "sst", f.built.id, "bytes", size, "last_seq", uint64(f.lastSeq), "duration", d)
	}
	m := w.opts.Metrics
	if m == nil {
		return err
	}
	m.flushSeconds.Observe(d.Seconds())
	if err != nil {
		m.flushes.WithLabelValues("error").Inc()
		return err
	}
	m.flushes.WithLabelValues("ok").Inc()
	m.flushedBytes.Add(float64(size))
	return nil
}

// memtableBytes is the size of the writer's memtables.
func (w *Writer) memtableBytes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.mu.active.Size()
	for _, f := range w.mu.immutables {
		n += f.mt.Size()
	}
	return n
}

// walSyncs is the number of fsyncs of the writer's WAL (0 without one).
func (w *Writer) walSyncs() uint64 {
	if w.wal == nil {
		return 0
	}
	return w.wal.log.Metrics().Syncs
}
