package isledb

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// ErrTailingReaderStopped ends Tail and TailChannel when the tailing reader is stopped
// or closed.
var ErrTailingReaderStopped = errors.New("isledb: tailing reader stopped")

// TailingReader is a Reader that refreshes itself in the background and can tail new keys.
//
// Tail emits keys in ascending key order, each at most once: every visible key in
// [MinKey, MaxKey] that is greater than the last key it emitted (or StartAfterKey). It
// suits keys that grow with time, such as event ids or timestamps. A key written later
// that sorts at or below the last emitted key is never emitted, and neither is a new value
// of a key already emitted; consumers that need every change should read the manifest's
// SSTs in sequence order instead.
type TailingReader struct {
	r    *Reader
	opts TailingReaderOpenOptions

	mu struct {
		sync.Mutex
		running     bool
		stopped     bool
		lastRefresh time.Time
		refreshed   chan struct{} // closed and replaced after every refresh
	}
	stop chan struct{} // closed by Stop
	wg   sync.WaitGroup
}

// OpenTailingReader opens a Reader and wraps it. Call Start for background refreshes.
func OpenTailingReader(ctx context.Context, store *blobstore.Store, opts TailingReaderOpenOptions) (*TailingReader, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r, err := OpenReader(ctx, store, opts.ReaderOptions)
	if err != nil {
		return nil, err
	}
	t := &TailingReader{r: r, opts: opts, stop: make(chan struct{})}
	t.mu.lastRefresh = time.Now()
	t.mu.refreshed = make(chan struct{})
	r.onVersion = t.wake // wake tails as soon as a refresh installs a version
	return t, nil
}

// Start starts the background refresh loop. Starting a running reader does nothing;
// starting a stopped one fails with ErrTailingReaderStopped.
func (t *TailingReader) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.stopped {
		return ErrTailingReaderStopped
	}
	if t.mu.running {
		return nil
	}
	t.mu.running = true
	t.wg.Add(1)
	go t.loop()
	return nil
}

func (t *TailingReader) loop() {
	defer t.wg.Done()
	wait := t.opts.RefreshInterval
	empty := 0 // refreshes in a row that found nothing new
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-timer.C:
		}
		before, start := t.r.cur.Load(), time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 4*t.opts.RefreshInterval+10*time.Second)
		err := t.Refresh(ctx)
		cancel()
		if err == nil && t.r.cur.Load() == before {
			empty++
		} else {
			empty = 0
		}
		wait = nextRefreshWait(wait, t.opts.RefreshInterval, t.opts.IdleRefreshInterval, empty)
		// As a ticker would: the wait runs from the start of the refresh.
		timer.Reset(max(0, wait-time.Since(start)))
		if err != nil {
			if !errors.Is(err, ErrClosed) {
				t.opts.OnRefreshError(err)
			}
			continue
		}
		t.opts.OnRefresh()
	}
}

// nextRefreshWait is the background loop's wait after a refresh that waited wait, when
// the last empty refreshes found nothing new: base until they span about idle, then
// doubling up to idle.
func nextRefreshWait(wait, base, idle time.Duration, empty int) time.Duration {
	if base <= 0 || idle <= base || time.Duration(empty) < idle/base {
		return base
	}
	return max(base, min(2*wait, idle))
}

// Stop stops the background loop and ends every Tail with ErrTailingReaderStopped. The
// reader stays open for reads.
func (t *TailingReader) Stop() {
	t.mu.Lock()
	if !t.mu.stopped {
		t.mu.stopped = true
		close(t.stop)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// Close stops the reader and closes the underlying Reader.
func (t *TailingReader) Close() error {
	t.Stop()
	return t.r.Close()
}

// Refresh refreshes the manifest now and wakes waiting tails.
func (t *TailingReader) Refresh(ctx context.Context) error {
	if err := t.r.Refresh(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	t.mu.lastRefresh = time.Now()
	t.mu.Unlock()
	t.wake()
	return nil
}

// wake wakes the tails waiting for a new version.
func (t *TailingReader) wake() {
	t.mu.Lock()
	close(t.mu.refreshed)
	t.mu.refreshed = make(chan struct{})
	t.mu.Unlock()
}

// LastRefresh returns when the manifest was last refreshed.
func (t *TailingReader) LastRefresh() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.lastRefresh
}

// Get reads key: see Reader.Get.
func (t *TailingReader) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	return t.r.Get(ctx, key)
}

// Scan reads a key range: see Reader.Scan.
func (t *TailingReader) Scan(ctx context.Context, minKey, maxKey []byte) ([]KV, error) {
	return t.r.Scan(ctx, minKey, maxKey)
}

// ScanLimit reads at most limit pairs of a key range: see Reader.ScanLimit.
func (t *TailingReader) ScanLimit(ctx context.Context, minKey, maxKey []byte, limit int) ([]KV, error) {
	return t.r.ScanLimit(ctx, minKey, maxKey, limit)
}

// NewIterator iterates a key range: see Reader.NewIterator.
func (t *TailingReader) NewIterator(ctx context.Context, opts IteratorOptions) (*Iterator, error) {
	return t.r.NewIterator(ctx, opts)
}

// Manifest returns a copy of the current manifest.
func (t *TailingReader) Manifest() *Manifest { return t.r.Manifest() }

// Reader returns the underlying Reader.
func (t *TailingReader) Reader() *Reader { return t.r }

// Tail calls handler with every key in [MinKey, MaxKey] above the last one emitted, in key
// order, now and as new flushes become visible, until handler returns an error (Tail
// returns it), ctx ends (ctx.Err()), or the reader is stopped (ErrTailingReaderStopped).
// The KV passed to handler is the handler's to keep.
func (t *TailingReader) Tail(ctx context.Context, opts TailOptions, handler func(KV) error) error {
	last := bytes.Clone(opts.StartAfterKey)
	return t.follow(ctx, opts.PollInterval, func() error {
		return t.tailOnce(ctx, opts, &last, handler)
	})
}

// follow runs pass on the current manifest, then again after every refresh (or poll
// interval, refreshing itself when no background loop runs), until pass fails, ctx ends
// or the reader is stopped.
func (t *TailingReader) follow(ctx context.Context, poll time.Duration, pass func() error) error {
	if poll <= 0 {
		poll = t.opts.RefreshInterval
	}
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		if err := t.checkStopped(); err != nil {
			return err
		}
		t.mu.Lock()
		refreshed, running := t.mu.refreshed, t.mu.running
		t.mu.Unlock()
		if err := pass(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.stop:
			return ErrTailingReaderStopped
		case <-refreshed:
		case <-timer.C:
			timer.Reset(poll)
			if !running {
				// No background loop: refresh here so new flushes become visible.
				if err := t.Refresh(ctx); err != nil && ctx.Err() == nil {
					t.opts.OnRefreshError(err)
				}
			}
		}
	}
}

func (t *TailingReader) checkStopped() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.stopped {
		return ErrTailingReaderStopped
	}
	return nil
}

// tailOnce emits the keys above *last that the current manifest holds.
func (t *TailingReader) tailOnce(ctx context.Context, opts TailOptions, last *[]byte, handler func(KV) error) error {
	lower := opts.MinKey
	if *last != nil && (lower == nil || bytes.Compare(*last, lower) >= 0) {
		lower = *last
	}
	it, err := t.r.NewIterator(ctx, IteratorOptions{MinKey: lower, MaxKey: opts.MaxKey})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		k := it.Key()
		if *last != nil && bytes.Compare(k, *last) <= 0 {
			continue
		}
		kv := KV{Key: bytes.Clone(k), Value: bytes.Clone(it.Value())}
		if err := handler(kv); err != nil {
			return err
		}
		*last = kv.Key
		if err := t.checkStopped(); err != nil {
			return err
		}
	}
	return it.Close()
}

// TailChannel runs Tail in a goroutine and delivers its pairs on the first channel. When
// Tail ends, the error channel receives its error (ctx.Err() or ErrTailingReaderStopped)
// and both channels are closed.
func (t *TailingReader) TailChannel(ctx context.Context, opts TailOptions) (<-chan KV, <-chan error) {
	kvs := make(chan KV, 64)
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		defer close(kvs)
		err := t.Tail(ctx, opts, func(kv KV) error {
			select {
			case kvs <- kv:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-t.stop:
				return ErrTailingReaderStopped
			}
		})
		errc <- err
	}()
	return kvs, errc
}
