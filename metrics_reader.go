package isledb

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isledb/isledb/blobstore"
)

// ReaderMetrics are the Prometheus metrics of readers (ReaderOpenOptions.Metrics, also
// through TailingReaderOpenOptions.ReaderOptions). Make one with NewReaderMetrics or
// DefaultReaderMetrics; nil means none. Safe for concurrent use by any number of readers.
type ReaderMetrics struct {
	getFound, getNotFound, getError prometheus.Counter
	refreshes                       *prometheus.CounterVec
	scrape                          *readerCollector
}

// readerCollector reports the live readers' caches, requests and manifests at scrape time.
type readerCollector struct {
	hits, misses, cacheBytes *prometheus.Desc
	requests, lag            *prometheus.Desc
	l0, runs, sstBytes       *prometheus.Desc

	readers attached[*Reader]
	// Guarded by readers.mu:
	refreshed map[*Reader]time.Time
	stores    map[*blobstore.Store]*storeUse
	retired   readerCounts // of closed readers
}

// storeUse counts the readers of a store and holds its counters when the first attached.
type storeUse struct {
	readers int
	base    blobstore.Stats
}

// readerCounts are the cache counters of readers, summed.
type readerCounts struct {
	sstHits, sstMisses, blockHits, blockMisses, blobHits, blobMisses int64
	requests                                                         blobstore.Stats
}

func (c *readerCounts) add(r *Reader) {
	s, b := r.SSTCacheStats(), r.BlobCacheStats()
	c.sstHits += s.DiskHits
	c.sstMisses += s.DiskMisses
	c.blockHits += s.BlockHits
	c.blockMisses += s.BlockMisses
	c.blobHits += b.Hits
	c.blobMisses += b.Misses
}

// NewReaderMetrics returns reader metrics registered on reg (nil: not registered), each
// series carrying constLabels.
func NewReaderMetrics(reg prometheus.Registerer, constLabels prometheus.Labels) *ReaderMetrics {
	gets := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isledb_reader_gets_total",
		Help: "Point reads (Get), by outcome: found, not_found or error.", ConstLabels: constLabels}, []string{"outcome"}))
	m := &ReaderMetrics{
		getFound: gets.WithLabelValues("found"), getNotFound: gets.WithLabelValues("not_found"), getError: gets.WithLabelValues("error"),
		refreshes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isledb_reader_refreshes_total",
			Help: "Manifest refreshes (Refresh), by outcome: ok or error.", ConstLabels: constLabels}, []string{"outcome"})),
		scrape: &readerCollector{
			hits:       newDesc("isledb_reader_cache_hits_total", "Reader cache hits, by cache: sst (SST files on disk), block (SST blocks in memory), blob (blob values on disk).", constLabels, "cache"),
			misses:     newDesc("isledb_reader_cache_misses_total", "Reader cache misses, by cache (see isledb_reader_cache_hits_total).", constLabels, "cache"),
			cacheBytes: newDesc("isledb_reader_cache_bytes", "Bytes held by the reader caches, by cache.", constLabels, "cache"),
			requests:   newDesc("isledb_reader_bucket_requests_total", "Object-store requests of the readers' stores since the readers opened, by kind: get, ranged_get, head, put, conditional_put, list, delete.", constLabels, "kind"),
			lag:        newDesc("isledb_reader_refresh_lag_seconds", "Time since the least recently refreshed reader last refreshed its manifest (or opened).", constLabels),
			l0:         newDesc("isledb_reader_l0_ssts", "L0 SSTs in the readers' manifest versions.", constLabels),
			runs:       newDesc("isledb_reader_sorted_runs", "Sorted runs in the readers' manifest versions.", constLabels),
			sstBytes:   newDesc("isledb_reader_sst_bytes", "Bytes of the SSTs in the readers' manifest versions.", constLabels),
			refreshed:  map[*Reader]time.Time{},
			stores:     map[*blobstore.Store]*storeUse{},
		},
	}
	m.scrape = register(reg, m.scrape)
	return m
}

var defaultReaderMetrics = sync.OnceValue(func() *ReaderMetrics {
	return NewReaderMetrics(prometheus.DefaultRegisterer, nil)
})

// DefaultReaderMetrics returns the process's reader metrics on
// prometheus.DefaultRegisterer (made on the first call).
func DefaultReaderMetrics() *ReaderMetrics { return defaultReaderMetrics() }

func (c *readerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.cacheBytes, c.requests, c.lag, c.l0, c.runs, c.sstBytes} {
		ch <- d
	}
}

func (c *readerCollector) Collect(ch chan<- prometheus.Metric) {
	var (
		n                  readerCounts
		sstB, blockB, blob int64
		l0, runs, bytes    int
		oldest             time.Time
	)
	now := time.Now()
	c.readers.mu.Lock()
	for r := range c.readers.live {
		n.add(r)
		s := r.SSTCacheStats()
		sstB += s.DiskBytes
		blockB += s.BlockBytes
		blob += r.BlobCacheStats().Bytes
		m := r.ManifestUnsafe()
		l0 += len(m.L0SSTs)
		runs += len(m.SortedRuns)
		for sst := range m.SSTs() {
			bytes += int(sst.Size)
		}
		if t := c.refreshed[r]; oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	req := c.retired.requests
	for s, u := range c.stores {
		req = addStats(req, s.Stats().Sub(u.base))
	}
	r := c.retired
	c.readers.mu.Unlock()
	counter := func(d *prometheus.Desc, v int64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(c.hits, n.sstHits+r.sstHits, "sst")
	counter(c.misses, n.sstMisses+r.sstMisses, "sst")
	counter(c.hits, n.blockHits+r.blockHits, "block")
	counter(c.misses, n.blockMisses+r.blockMisses, "block")
	counter(c.hits, n.blobHits+r.blobHits, "blob")
	counter(c.misses, n.blobMisses+r.blobMisses, "blob")
	gauge(c.cacheBytes, float64(sstB), "sst")
	gauge(c.cacheBytes, float64(blockB), "block")
	gauge(c.cacheBytes, float64(blob), "blob")
	for _, k := range []struct {
		kind string
		v    int64
	}{{"get", req.Gets}, {"ranged_get", req.RangedGets}, {"head", req.Heads}, {"put", req.Puts},
		{"conditional_put", req.CondPuts}, {"list", req.Lists}, {"delete", req.Deletes}} {
		counter(c.requests, k.v, k.kind)
	}
	lag := 0.0
	if !oldest.IsZero() {
		lag = now.Sub(oldest).Seconds()
	}
	gauge(c.lag, lag)
	gauge(c.l0, float64(l0))
	gauge(c.runs, float64(runs))
	gauge(c.sstBytes, float64(bytes))
}

// addStats returns a plus b, field by field (a minus the negation of b).
func addStats(a, b blobstore.Stats) blobstore.Stats {
	var zero blobstore.Stats
	return a.Sub(zero.Sub(b))
}

// The hooks the reader calls (one line each in reader.go); with no Metrics and the
// default Logger they cost a nil check.

func (m *ReaderMetrics) attach(r *Reader) {
	if m == nil {
		return
	}
	c := m.scrape
	c.readers.add(r)
	c.readers.mu.Lock()
	c.refreshed[r] = time.Now()
	u := c.stores[r.store]
	if u == nil {
		u = &storeUse{base: r.store.Stats()}
		c.stores[r.store] = u
	}
	u.readers++
	c.readers.mu.Unlock()
}

func (m *ReaderMetrics) detach(r *Reader) {
	if m == nil {
		return
	}
	c := m.scrape
	c.readers.remove(r, func(r *Reader) {
		c.retired.add(r)
		delete(c.refreshed, r)
		if u := c.stores[r.store]; u != nil {
			if u.readers--; u.readers == 0 {
				c.retired.requests = addStats(c.retired.requests, r.store.Stats().Sub(u.base))
				delete(c.stores, r.store)
			}
		}
	})
}

// observeGet counts a Get's outcome.
func (r *Reader) observeGet(found *bool, err *error) {
	m := r.opts.Metrics
	if m == nil {
		return
	}
	switch {
	case *err != nil:
		m.getError.Inc()
	case *found:
		m.getFound.Inc()
	default:
		m.getNotFound.Inc()
	}
}

// observeRefresh counts and logs a Refresh.
func (r *Reader) observeRefresh(before uint64, err *error) {
	if *err != nil {
		r.opts.Logger.Warn("isledb: reader: refresh failed", "error", *err)
	} else if after := r.cur.Load().LogSeq; after != before {
		r.opts.Logger.Debug("isledb: reader: refreshed", "log_seq", after)
	}
	m := r.opts.Metrics
	if m == nil {
		return
	}
	if *err != nil {
		m.refreshes.WithLabelValues("error").Inc()
		return
	}
	m.refreshes.WithLabelValues("ok").Inc()
	c := m.scrape
	c.readers.mu.Lock()
	if _, ok := c.refreshed[r]; ok {
		c.refreshed[r] = time.Now()
	}
	c.readers.mu.Unlock()
}
