package diskcache

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waiters returns how many callers wait on the fetch of name in progress; -1 if none is.
func (c *Cache) waiters(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.mu.flights[name]; ok {
		return f.waiters
	}
	return -1
}

// blockingFetch returns a fetch function that counts its calls, signals started, and
// returns data once release is closed (or ctx's error if ctx ends first).
func blockingFetch(data []byte, calls *atomic.Int64, started chan<- struct{}, release <-chan struct{}) FetchFunc {
	return func(ctx context.Context) ([]byte, error) {
		calls.Add(1)
		if started != nil {
			started <- struct{}{}
		}
		select {
		case <-release:
			return data, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func TestSingleflight(t *testing.T) {
	tests := []struct {
		name         string
		maxItem      int64
		handles      bool
		wantStored   bool
		wantInMemory bool
	}{
		{"cached bytes", 0, false, true, false},
		{"cached handle", 0, true, true, false},
		{"too large bytes", 100, false, false, true},
		{"too large handle", 100, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 16
			c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20, MaxItemSize: tt.maxItem})
			want := content("blob", 1000)
			var calls atomic.Int64
			release := make(chan struct{})
			fetch := blockingFetch(want, &calls, nil, release)

			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var got []byte
					if tt.handles {
						h, err := c.OpenOrFetch(context.Background(), "blob", fetch)
						if err != nil {
							errs <- err
							return
						}
						if (h.f == nil) != tt.wantInMemory {
							errs <- errors.New("wrong kind of handle")
						}
						got = make([]byte, h.Size())
						if _, err := h.ReadAt(got, 0); err != nil {
							errs <- err
						}
						h.Close()
					} else {
						var err error
						if got, err = c.GetOrFetch(context.Background(), "blob", fetch); err != nil {
							errs <- err
							return
						}
					}
					if !bytes.Equal(got, want) {
						errs <- errors.New("wrong content")
					}
				}()
			}
			waitFor(t, "every caller to join the fetch", func() bool { return c.waiters("blob") == n-1 })
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if calls.Load() != 1 || c.Stats().Fetches != 1 {
				t.Fatalf("%d concurrent misses caused %d fetches (stats %d), want 1", n, calls.Load(), c.Stats().Fetches)
			}
			if c.Contains("blob") != tt.wantStored {
				t.Fatalf("stored = %v, want %v", c.Contains("blob"), tt.wantStored)
			}
			if c.waiters("blob") != -1 {
				t.Fatal("flight left behind")
			}
		})
	}
}

func TestGetOrFetchHit(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	mustPut(t, c, "x", 100)
	data, err := c.GetOrFetch(context.Background(), "x", func(context.Context) ([]byte, error) {
		t.Fatal("fetched a cached item")
		return nil, nil
	})
	if err != nil || !bytes.Equal(data, content("x", 100)) {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 0 || s.Fetches != 0 {
		t.Fatalf("Stats = %v", s)
	}
}

func TestFetchError(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	boom := errors.New("bucket down")
	started, release := make(chan struct{}, 1), make(chan struct{})
	var calls atomic.Int64
	fetch := func(ctx context.Context) ([]byte, error) {
		calls.Add(1)
		started <- struct{}{}
		<-release
		return nil, boom
	}
	errc := make(chan error, 2)
	go func() { _, err := c.GetOrFetch(context.Background(), "x", fetch); errc <- err }()
	<-started
	go func() { _, err := c.GetOrFetch(context.Background(), "x", fetch); errc <- err }()
	waitFor(t, "the second caller to join", func() bool { return c.waiters("x") == 1 })
	close(release)
	for range 2 {
		if err := <-errc; !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	}
	if calls.Load() != 1 || c.Contains("x") {
		t.Fatalf("calls=%d stored=%v", calls.Load(), c.Contains("x"))
	}
	// A later call tries again.
	data, err := c.GetOrFetch(context.Background(), "x", func(context.Context) ([]byte, error) { return []byte("ok"), nil })
	if err != nil || string(data) != "ok" || !c.Contains("x") {
		t.Fatalf("retry: %q %v", data, err)
	}
}

func TestFetchLeaderCanceled(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	want := content("x", 10)
	var calls atomic.Int64
	started, release := make(chan struct{}, 2), make(chan struct{})
	fetch := blockingFetch(want, &calls, started, release)

	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() { _, err := c.GetOrFetch(leaderCtx, "x", fetch); leaderErr <- err }()
	<-started
	type result struct {
		data []byte
		err  error
	}
	follower := make(chan result, 1)
	go func() {
		data, err := c.GetOrFetch(context.Background(), "x", fetch)
		follower <- result{data, err}
	}()
	waitFor(t, "the follower to join", func() bool { return c.waiters("x") == 1 })
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader err = %v", err)
	}
	<-started // the follower, whose context is live, fetches itself
	close(release)
	r := <-follower
	if r.err != nil || !bytes.Equal(r.data, want) {
		t.Fatalf("follower: %v", r.err)
	}
	if calls.Load() != 2 || !c.Contains("x") {
		t.Fatalf("calls=%d stored=%v", calls.Load(), c.Contains("x"))
	}
}

func TestFetchFollowerCanceled(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	var calls atomic.Int64
	started, release := make(chan struct{}, 1), make(chan struct{})
	fetch := blockingFetch([]byte("v"), &calls, started, release)
	leader := make(chan error, 1)
	go func() { _, err := c.GetOrFetch(context.Background(), "x", fetch); leader <- err }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := c.GetOrFetch(ctx, "x", fetch); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("follower err = %v", err)
	}
	close(release)
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("calls = %d", calls.Load())
	}
}

func TestFetchPanic(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	started, release := make(chan struct{}), make(chan struct{})
	fetch := func(context.Context) ([]byte, error) {
		close(started)
		<-release
		panic("fetch bug")
	}
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		c.GetOrFetch(context.Background(), "x", fetch)
	}()
	<-started
	follower := make(chan error, 1)
	go func() { _, err := c.GetOrFetch(context.Background(), "x", fetch); follower <- err }()
	waitFor(t, "the follower to join", func() bool { return c.waiters("x") == 1 })
	close(release)
	if p := <-panicked; p != "fetch bug" {
		t.Fatalf("recovered %v", p)
	}
	if err := <-follower; !errors.Is(err, errFetchPanicked) {
		t.Fatalf("follower err = %v", err)
	}
	if c.waiters("x") != -1 {
		t.Fatal("flight left behind")
	}
}

func TestFetchClosedAndInvalid(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	never := func(context.Context) ([]byte, error) { t.Fatal("fetched"); return nil, nil }
	if _, err := c.GetOrFetch(context.Background(), "a/b", never); !errors.Is(err, ErrInvalidName) {
		t.Fatal(err)
	}
	if _, err := c.OpenOrFetch(context.Background(), "", never); !errors.Is(err, ErrInvalidName) {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.GetOrFetch(context.Background(), "x", never); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := c.OpenOrFetch(context.Background(), "x", never); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
