package isledb

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Prometheus metrics.
//
// Each component takes an optional metrics value in its options: WriterOptions.Metrics
// (*WriterMetrics), ReaderOpenOptions.Metrics (*ReaderMetrics), CompactorOptions.Metrics
// (*CompactorMetrics); InstrumentStore wraps a blob store with *BlobStoreMetrics. nil (the
// default) means no metrics, at the cost of one nil check per hook. New*Metrics registers
// the metrics on a registry of the caller's (with constant labels, e.g. the database's
// name); Default*Metrics on prometheus.DefaultRegisterer, once per process. One metrics
// value may serve several components of its kind at once (they are summed), including
// ones opened and closed over time: the counters of a closed component are kept.
//
// Counters that a component already keeps (cache hits, requests, WAL syncs, compaction
// bytes) are read when the registry is scraped, not on the hot path. Every name starts
// with isledb_, counters end in _total, durations are in _seconds and sizes in _bytes;
// docs/operating.md lists them all.

// register registers cs on reg. A collector already registered (an identical one, from
// another New*Metrics call with the same labels) is replaced by the registered one, so
// that two metrics values with the same name and labels share their series. Errors of
// any other kind (a name registered with other labels) leave that collector unregistered:
// it still counts, but is not exported.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// attached is the set of live components a metrics value reads at scrape time.
type attached[T comparable] struct {
	mu   sync.Mutex
	live map[T]struct{}
}

func (a *attached[T]) add(t T) {
	a.mu.Lock()
	if a.live == nil {
		a.live = map[T]struct{}{}
	}
	a.live[t] = struct{}{}
	a.mu.Unlock()
}

// remove drops t and calls retire with it (under the set's lock, so that a scrape never
// counts t twice or not at all).
func (a *attached[T]) remove(t T, retire func(T)) {
	a.mu.Lock()
	if _, ok := a.live[t]; ok {
		delete(a.live, t)
		retire(t)
	}
	a.mu.Unlock()
}

// each calls f with every live component, under the set's lock.
func (a *attached[T]) each(f func(T)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t := range a.live {
		f(t)
	}
}

// counterDesc and gaugeDesc describe a metric collected at scrape time.
func newDesc(name, help string, constLabels prometheus.Labels, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, constLabels)
}
