package isledb

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// CompactorMetrics are the Prometheus metrics of compactors (CompactorOptions.Metrics):
// jobs, bytes merged, and garbage collection, read from the compactors' CompactorStats at
// scrape time. Make one with NewCompactorMetrics or DefaultCompactorMetrics; nil means
// none. Safe for concurrent use by any number of compactors.
type CompactorMetrics struct {
	jobs, inBytes, outBytes, inSSTs, outSSTs *prometheus.Desc
	gcPasses, gcDeleted, gcDeletedBytes      *prometheus.Desc
	gcOrphans, gcPending                     *prometheus.Desc

	compactors attached[*Compactor]
	retired    CompactorStats // of closed compactors (guarded by compactors.mu)
}

// NewCompactorMetrics returns compactor metrics registered on reg (nil: not registered),
// each series carrying constLabels.
func NewCompactorMetrics(reg prometheus.Registerer, constLabels prometheus.Labels) *CompactorMetrics {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return newDesc(name, help, constLabels, labels...)
	}
	m := &CompactorMetrics{
		jobs:           d("isledb_compactor_jobs_total", "Compaction jobs, by outcome: ok (published) or error.", "outcome"),
		inBytes:        d("isledb_compactor_input_bytes_total", "Bytes of the SSTs published compactions merged."),
		outBytes:       d("isledb_compactor_output_bytes_total", "Bytes of the SSTs published compactions wrote."),
		inSSTs:         d("isledb_compactor_input_ssts_total", "SSTs published compactions merged."),
		outSSTs:        d("isledb_compactor_output_ssts_total", "SSTs published compactions wrote."),
		gcPasses:       d("isledb_compactor_gc_passes_total", "Garbage collection passes."),
		gcDeleted:      d("isledb_compactor_gc_deleted_total", "Objects garbage collection deleted, by object: sst or blob.", "object"),
		gcDeletedBytes: d("isledb_compactor_gc_deleted_bytes_total", "Bytes of the objects garbage collection deleted, by object: sst or blob.", "object"),
		gcOrphans:      d("isledb_compactor_gc_orphans_found_total", "SST objects garbage collection found in no manifest."),
		gcPending:      d("isledb_compactor_gc_pending_ssts", "SSTs waiting out their grace period after the last pass."),
	}
	return register(reg, m)
}

var defaultCompactorMetrics = sync.OnceValue(func() *CompactorMetrics {
	return NewCompactorMetrics(prometheus.DefaultRegisterer, nil)
})

// DefaultCompactorMetrics returns the process's compactor metrics on
// prometheus.DefaultRegisterer (made on the first call).
func DefaultCompactorMetrics() *CompactorMetrics { return defaultCompactorMetrics() }

// Describe implements prometheus.Collector.
func (m *CompactorMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.jobs, m.inBytes, m.outBytes, m.inSSTs, m.outSSTs, m.gcPasses, m.gcDeleted, m.gcDeletedBytes, m.gcOrphans, m.gcPending} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *CompactorMetrics) Collect(ch chan<- prometheus.Metric) {
	m.compactors.mu.Lock()
	s := m.retired
	pending := 0
	for c := range m.compactors.live {
		st := c.Stats()
		addCompactorStats(&s, st)
		pending += st.GC.Pending
	}
	m.compactors.mu.Unlock()
	c := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	c(m.jobs, float64(s.Compactions), "ok")
	c(m.jobs, float64(s.Failures), "error")
	c(m.inBytes, float64(s.InputBytes))
	c(m.outBytes, float64(s.OutputBytes))
	c(m.inSSTs, float64(s.InputSSTs))
	c(m.outSSTs, float64(s.OutputSSTs))
	c(m.gcPasses, float64(s.GC.Passes))
	c(m.gcDeleted, float64(s.GC.SSTsDeleted), "sst")
	c(m.gcDeleted, float64(s.GC.BlobsDeleted), "blob")
	c(m.gcDeletedBytes, float64(s.GC.SSTBytesDeleted), "sst")
	c(m.gcDeletedBytes, float64(s.GC.BlobBytesDeleted), "blob")
	c(m.gcOrphans, float64(s.GC.OrphansFound))
	ch <- prometheus.MustNewConstMetric(m.gcPending, prometheus.GaugeValue, float64(pending))
}

func addCompactorStats(s *CompactorStats, o CompactorStats) {
	s.Compactions += o.Compactions
	s.Failures += o.Failures
	s.InputBytes += o.InputBytes
	s.OutputBytes += o.OutputBytes
	s.InputSSTs += o.InputSSTs
	s.OutputSSTs += o.OutputSSTs
	s.GC.add(o.GC)
}

// The hooks of the compactor (one line each in compactor.go).

func (m *CompactorMetrics) attach(c *Compactor) {
	if m != nil {
		m.compactors.add(c)
	}
}

func (m *CompactorMetrics) detach(c *Compactor) {
	if m != nil {
		m.compactors.remove(c, func(c *Compactor) { addCompactorStats(&m.retired, c.Stats()) })
	}
}
