package isledb

import (
	"context"
	"sync"

	"github.com/isledb/isledb/manifest"
)

// refreshPrefetchConcurrency bounds the SSTs one refresh's background prefetch opens at
// once.
const refreshPrefetchConcurrency = 4

// refreshPrefetcher runs the background prefetches of new SSTs that Refresh starts
// (ReaderOpenOptions.PrefetchOnRefreshBytes).
type refreshPrefetcher struct {
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

func (p *refreshPrefetcher) init() {
	p.ctx, p.cancel = context.WithCancel(context.Background())
}

// close stops the prefetches and waits for them.
func (p *refreshPrefetcher) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// prefetchNew starts, in the background, the prefetch of the SSTs of m that old does not
// have, newest L0 first, up to PrefetchOnRefreshBytes of them: each is opened and, if it
// fits the SST disk cache, brought into it whole (see RefreshAndPrefetchSSTs), so that Gets
// of fresh data do not wait on the bucket. An SST a Get opens meanwhile is opened once for
// both. Failures are left for the Gets to meet.
func (r *Reader) prefetchNew(old, m *manifest.Manifest) {
	budget := r.opts.PrefetchOnRefreshBytes
	if budget <= 0 {
		return
	}
	have := make(map[string]struct{}, len(old.L0SSTs))
	for _, id := range old.AllSSTIDs() {
		have[id] = struct{}{}
	}
	var todo []manifest.SSTMeta
	for sst := range m.SSTs() {
		if _, ok := have[sst.ID]; ok || sst.Size > budget {
			continue
		}
		budget -= sst.Size
		todo = append(todo, *sst)
	}
	if len(todo) == 0 {
		return
	}
	p := &r.prefetch
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		sem := make(chan struct{}, refreshPrefetchConcurrency)
		var wg sync.WaitGroup
		for i := range todo {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := r.tables.Prefetch(p.ctx, &todo[i]); err == nil {
					r.prefetched.Add(1)
				}
			}()
		}
		wg.Wait()
	}()
}

// WaitForPrefetch waits until the background prefetches that earlier Refresh calls
// started (ReaderOpenOptions.PrefetchOnRefreshBytes) have ended, or ctx ends.
func (r *Reader) WaitForPrefetch(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.prefetch.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
