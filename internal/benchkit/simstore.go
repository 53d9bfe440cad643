package benchkit

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// Latency is a log-normal distribution of request latency given by its median and 99th
// percentile: sigma = ln(P99/P50) / 2.326 (the standard normal's 99th percentile).
type Latency struct {
	P50 time.Duration
	P99 time.Duration
}

// sample draws one latency.
func (l Latency) sample(rng *rand.Rand) time.Duration {
	if l.P50 <= 0 {
		return 0
	}
	sigma := 0.0
	if l.P99 > l.P50 {
		sigma = math.Log(float64(l.P99)/float64(l.P50)) / 2.3263
	}
	return time.Duration(float64(l.P50) * math.Exp(sigma*rng.NormFloat64()))
}

// SimOptions is the simulated remote store's latency model.
type SimOptions struct {
	// Get is the time to first byte of GET and HEAD. Default: 25 ms p50, 70 ms p99.
	Get Latency
	// Put is the latency of PUT and DELETE. Default: 25 ms p50, 70 ms p99.
	Put Latency
	// List is the latency of one LIST page. Default: like Get.
	List Latency
	// Bandwidth is the bytes per second of one request's payload, added to the latency:
	// size / Bandwidth. Default: 100 MB/s (what one S3 connection sustains).
	Bandwidth float64
	// Seed seeds the latency draws. Default: 1.
	Seed uint64
}

// DefaultSimOptions returns the defaults documented on SimOptions: S3 Standard in the
// same region, as commonly measured from EC2.
func DefaultSimOptions() SimOptions {
	var o SimOptions
	o.EnsureDefaults()
	return o
}

// EnsureDefaults fills zero fields with their defaults.
func (o *SimOptions) EnsureDefaults() {
	s3 := Latency{P50: 25 * time.Millisecond, P99: 70 * time.Millisecond}
	if o.Get.P50 == 0 {
		o.Get = s3
	}
	if o.Put.P50 == 0 {
		o.Put = s3
	}
	if o.List.P50 == 0 {
		o.List = o.Get
	}
	if o.Bandwidth == 0 {
		o.Bandwidth = 100e6
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// SimBackend is a blobstore.Backend that delays every request to an inner backend (a
// memory backend, usually) as a remote object store would: a latency drawn from the
// request kind's distribution plus the payload's transfer time. The delay comes before
// a PUT reaches the inner backend (the object appears when the call returns, as on S3)
// and around a GET. A cancelled context ends the delay with ctx.Err().
type SimBackend struct {
	inner blobstore.Backend
	opts  SimOptions
	mu    struct {
		sync.Mutex
		rng *rand.Rand
	}
}

var _ blobstore.StreamBackend = (*SimBackend)(nil)

// NewSimBackend wraps inner with the latency model opts (zero fields: defaults).
func NewSimBackend(inner blobstore.Backend, opts SimOptions) *SimBackend {
	opts.EnsureDefaults()
	b := &SimBackend{inner: inner, opts: opts}
	b.mu.rng = rand.New(rand.NewPCG(opts.Seed, 0x5153))
	return b
}

// NewSimStore returns a Store over a simulated remote store backed by memory.
func NewSimStore(prefix string, opts SimOptions) *blobstore.Store {
	return blobstore.NewWithBackend(NewSimBackend(blobstore.NewMemory("").Backend(), opts), "sim-s3", prefix)
}

func (b *SimBackend) delay(ctx context.Context, l Latency, bytes int) error {
	b.mu.Lock()
	d := l.sample(b.mu.rng)
	b.mu.Unlock()
	d += time.Duration(float64(bytes) / b.opts.Bandwidth * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get implements blobstore.Backend.
func (b *SimBackend) Get(ctx context.Context, key string, offset, length int64) ([]byte, blobstore.Attributes, error) {
	data, attrs, err := b.inner.Get(ctx, key, offset, length)
	if derr := b.delay(ctx, b.opts.Get, len(data)); derr != nil {
		return nil, blobstore.Attributes{}, derr
	}
	return data, attrs, err
}

// GetStream implements blobstore.StreamBackend: the first byte comes after a latency draw,
// the body at Bandwidth, so a reader of the stream can work on the bytes as they arrive.
func (b *SimBackend) GetStream(ctx context.Context, key string) (io.ReadCloser, blobstore.Attributes, error) {
	data, attrs, err := b.inner.Get(ctx, key, 0, -1)
	if derr := b.delay(ctx, b.opts.Get, 0); derr != nil {
		return nil, blobstore.Attributes{}, derr
	}
	if err != nil {
		return nil, blobstore.Attributes{}, err
	}
	return &pacedReader{ctx: ctx, data: data, bw: b.opts.Bandwidth, start: time.Now()}, attrs, nil
}

// pacedReader hands out data no faster than bw bytes per second from start.
type pacedReader struct {
	ctx   context.Context
	data  []byte
	off   int
	bw    float64
	start time.Time
}

func (p *pacedReader) Read(buf []byte) (int, error) {
	if p.off == len(p.data) {
		return 0, io.EOF
	}
	n := min(len(buf), len(p.data)-p.off, 64<<10)
	due := p.start.Add(time.Duration(float64(p.off+n) / p.bw * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-p.ctx.Done():
			t.Stop()
			return 0, p.ctx.Err()
		}
	}
	copy(buf, p.data[p.off:p.off+n])
	p.off += n
	return n, nil
}

func (p *pacedReader) Close() error { return nil }

// Head implements blobstore.Backend.
func (b *SimBackend) Head(ctx context.Context, key string) (blobstore.Attributes, error) {
	if err := b.delay(ctx, b.opts.Get, 0); err != nil {
		return blobstore.Attributes{}, err
	}
	return b.inner.Head(ctx, key)
}

// Put implements blobstore.Backend.
func (b *SimBackend) Put(ctx context.Context, key string, data []byte, opts blobstore.PutOptions) (blobstore.Attributes, error) {
	if err := b.delay(ctx, b.opts.Put, len(data)); err != nil {
		return blobstore.Attributes{}, err
	}
	return b.inner.Put(ctx, key, data, opts)
}

// Delete implements blobstore.Backend.
func (b *SimBackend) Delete(ctx context.Context, key string) error {
	if err := b.delay(ctx, b.opts.Put, 0); err != nil {
		return err
	}
	return b.inner.Delete(ctx, key)
}

// List implements blobstore.Backend.
func (b *SimBackend) List(ctx context.Context, opts blobstore.ListOptions) (*blobstore.ListResult, error) {
	if err := b.delay(ctx, b.opts.List, 0); err != nil {
		return nil, err
	}
	return b.inner.List(ctx, opts)
}

// Close implements blobstore.Backend.
func (b *SimBackend) Close() error { return b.inner.Close() }
