package isledb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isledb/isledb/blobstore"
)

// BlobStoreMetrics are the Prometheus metrics of object-store requests: every attempt by
// kind and outcome, its latency, and retries. InstrumentStore applies them to a Store.
// Make one with NewBlobStoreMetrics or DefaultBlobStoreMetrics. Safe for concurrent use by
// any number of stores.
type BlobStoreMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
	retries  prometheus.Counter
}

// NewBlobStoreMetrics returns blob store metrics registered on reg (nil: not
// registered), each series carrying constLabels.
func NewBlobStoreMetrics(reg prometheus.Registerer, constLabels prometheus.Labels) *BlobStoreMetrics {
	return &BlobStoreMetrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isledb_blobstore_requests_total",
			Help:        "Object-store request attempts, by kind (get, ranged_get, head, put, put_if_absent, put_if_match, delete, list) and outcome (ok, not_found, precondition_failed, error).",
			ConstLabels: constLabels}, []string{"kind", "outcome"})),
		seconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "isledb_blobstore_request_duration_seconds",
			Help: "Latency of object-store request attempts, by kind.", ConstLabels: constLabels,
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"kind"})),
		bytes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isledb_blobstore_transferred_bytes_total",
			Help: "Payload bytes moved by object-store requests, by direction (read or written).", ConstLabels: constLabels}, []string{"direction"})),
		retries: register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "isledb_blobstore_retries_total",
			Help: "Object-store request attempts that retried a failed one.", ConstLabels: constLabels})),
	}
}

var defaultBlobStoreMetrics = sync.OnceValue(func() *BlobStoreMetrics {
	return NewBlobStoreMetrics(prometheus.DefaultRegisterer, nil)
})

// DefaultBlobStoreMetrics returns the process's blob store metrics on
// prometheus.DefaultRegisterer (made on the first call).
func DefaultBlobStoreMetrics() *BlobStoreMetrics { return defaultBlobStoreMetrics() }

// InstrumentStore returns a Store over the same backend, bucket, prefix and retry policy as
// s whose requests m counts; nil m returns s itself. Use the returned Store in place of s
// (the two share the backend: closing either closes it; their Stats are separate).
func InstrumentStore(s *blobstore.Store, m *BlobStoreMetrics) (*blobstore.Store, error) {
	if m == nil || s == nil {
		return s, nil
	}
	is, err := blobstore.NewWithBackendChecked(&metricsBackend{b: s.Backend(), m: m}, s.BucketName(), s.Prefix())
	if err != nil {
		return nil, err
	}
	is.SetRetryPolicy(s.RetryPolicy())
	is.SetRetryHook(m.retries.Inc)
	return is, nil
}

// metricsBackend times and counts every call to the backend.
type metricsBackend struct {
	b blobstore.Backend
	m *BlobStoreMetrics
}

var _ blobstore.StreamBackend = (*metricsBackend)(nil)

// GetStream streams through the wrapped backend when it can (timing the request to its
// first byte; the bytes are counted as they are read), else reads the object with Get.
func (b *metricsBackend) GetStream(ctx context.Context, key string) (io.ReadCloser, blobstore.Attributes, error) {
	sb, ok := b.b.(blobstore.StreamBackend)
	if !ok {
		data, attrs, err := b.Get(ctx, key, 0, -1)
		if err != nil {
			return nil, attrs, err
		}
		return io.NopCloser(bytes.NewReader(data)), attrs, nil
	}
	start := time.Now()
	body, attrs, err := sb.GetStream(ctx, key)
	b.observe("get", start, err)
	if err != nil {
		return nil, attrs, err
	}
	return &countingBody{ReadCloser: body, c: b.m.bytes.WithLabelValues("read")}, attrs, nil
}

// countingBody adds the bytes read to a counter.
type countingBody struct {
	io.ReadCloser
	c interface{ Add(float64) }
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.c.Add(float64(n))
	return n, err
}

func (b *metricsBackend) observe(kind string, start time.Time, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, blobstore.ErrNotFound):
		outcome = "not_found"
	case errors.Is(err, blobstore.ErrPreconditionFailed):
		outcome = "precondition_failed"
	default:
		outcome = "error"
	}
	b.m.requests.WithLabelValues(kind, outcome).Inc()
	b.m.seconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

func (b *metricsBackend) Get(ctx context.Context, key string, offset, length int64) ([]byte, blobstore.Attributes, error) {
	start := time.Now()
	data, attrs, err := b.b.Get(ctx, key, offset, length)
	kind := "get"
	if offset != 0 || length >= 0 {
		kind = "ranged_get"
	}
	b.observe(kind, start, err)
	b.m.bytes.WithLabelValues("read").Add(float64(len(data)))
	return data, attrs, err
}

func (b *metricsBackend) Head(ctx context.Context, key string) (blobstore.Attributes, error) {
	start := time.Now()
	attrs, err := b.b.Head(ctx, key)
	b.observe("head", start, err)
	return attrs, err
}

func (b *metricsBackend) Put(ctx context.Context, key string, data []byte, opts blobstore.PutOptions) (blobstore.Attributes, error) {
	start := time.Now()
	attrs, err := b.b.Put(ctx, key, data, opts)
	kind := "put"
	switch {
	case opts.IfNotExist:
		kind = "put_if_absent"
	case opts.IfMatch != "":
		kind = "put_if_match"
	}
	b.observe(kind, start, err)
	if err == nil {
		b.m.bytes.WithLabelValues("written").Add(float64(len(data)))
	}
	return attrs, err
}

func (b *metricsBackend) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := b.b.Delete(ctx, key)
	b.observe("delete", start, err)
	return err
}

func (b *metricsBackend) List(ctx context.Context, opts blobstore.ListOptions) (*blobstore.ListResult, error) {
	start := time.Now()
	res, err := b.b.List(ctx, opts)
	b.observe("list", start, err)
	return res, err
}

func (b *metricsBackend) Close() error { return b.b.Close() }
