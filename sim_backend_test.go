package isledb

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// The simulator's fake clock and the backend layer that makes the bucket use it.

// simClock is the simulation's fake clock. It moves only when the driver advances it, so
// every time the garbage collector and the bucket report is a function of the seed.
type simClock = testutil.FakeClock

// simBackend sits between the memory backend and the fault injector. It reports object
// modification times on the fake clock (by ETag: the memory backend's ETags are unique per
// write), and lets the driver run code just before a blob delete reaches the bucket (to
// interleave a writer's flush with a GC pass deterministically).
//
// If a fix adds an optional Backend interface (a conditional delete, say), forward it here
// too, or the Store will not see it through this layer.
type simBackend struct {
	inner blobstore.Backend
	clock *simClock

	mu           sync.Mutex
	born         map[string]time.Time // ETag → fake time the write landed (or was first seen)
	onBlobDelete func(key string)     // fired once, on the next delete of a blob, then cleared
}

var _ blobstore.Backend = (*simBackend)(nil)

func newSimBackend(inner blobstore.Backend, clock *simClock) *simBackend {
	return &simBackend{inner: inner, clock: clock, born: map[string]time.Time{}}
}

// modTime returns the fake modification time of the object version etag.
func (b *simBackend) modTime(etag string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.born[etag]
	if !ok {
		t = b.clock.Now()
		b.born[etag] = t
	}
	return t
}

// armBlobDelete makes fn run (once) just before the next blob delete reaches the bucket.
func (b *simBackend) armBlobDelete(fn func(key string)) {
	b.mu.Lock()
	b.onBlobDelete = fn
	b.mu.Unlock()
}

func (b *simBackend) Get(ctx context.Context, key string, offset, length int64) ([]byte, blobstore.Attributes, error) {
	data, a, err := b.inner.Get(ctx, key, offset, length)
	if err == nil {
		a.ModTime = b.modTime(a.ETag)
	}
	return data, a, err
}

func (b *simBackend) Head(ctx context.Context, key string) (blobstore.Attributes, error) {
	a, err := b.inner.Head(ctx, key)
	if err == nil {
		a.ModTime = b.modTime(a.ETag)
	}
	return a, err
}

func (b *simBackend) Put(ctx context.Context, key string, data []byte, opts blobstore.PutOptions) (blobstore.Attributes, error) {
	a, err := b.inner.Put(ctx, key, data, opts)
	if err == nil {
		a.ModTime = b.modTime(a.ETag)
	}
	return a, err
}

func (b *simBackend) Delete(ctx context.Context, key string) error {
	if strings.Contains(key, "blob/") {
		b.mu.Lock()
		fn := b.onBlobDelete
		b.onBlobDelete = nil
		b.mu.Unlock()
		if fn != nil {
			fn(key)
		}
	}
	return b.inner.Delete(ctx, key)
}

func (b *simBackend) List(ctx context.Context, opts blobstore.ListOptions) (*blobstore.ListResult, error) {
	res, err := b.inner.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &blobstore.ListResult{NextPageToken: res.NextPageToken, Objects: make([]blobstore.ObjectInfo, len(res.Objects))}
	for i, o := range res.Objects {
		o.ModTime = b.modTime(o.ETag)
		out.Objects[i] = o
	}
	return out, nil
}

func (b *simBackend) Close() error { return b.inner.Close() }
