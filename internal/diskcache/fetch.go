package diskcache

import (
	"context"
	"errors"
	"fmt"
)

// FetchFunc produces an item's content on a miss, typically by reading it from the bucket.
// It is called with the context of the caller that triggered the fetch.
type FetchFunc func(ctx context.Context) ([]byte, error)

// flight is one fetch in progress. data and err are written before done is closed and only
// read after.
type flight struct {
	done    chan struct{}
	data    []byte
	err     error
	waiters int // callers waiting besides the one fetching; guarded by Cache.mu
}

// errFetchPanicked is what the waiters of a fetch that panicked receive; the panic itself
// goes on in the caller that ran the fetch.
var errFetchPanicked = errors.New("diskcache: fetch panicked")

// GetOrFetch returns the content of the item stored under name, fetching and storing it on
// a miss. Concurrent misses on one name share one fetch: the first caller runs fetch, the
// others wait for its result (or for their own context to end). If the caller running the
// fetch gives up because its context ended, a waiter whose context is still live runs the
// fetch again itself.
//
// The fetched content is stored with Put; an item too large to cache, or a failed write, is
// still returned (the failure is counted in Stats and logged). The returned slice is shared
// by every caller of one fetch: treat it as read-only.
func (c *Cache) GetOrFetch(ctx context.Context, name string, fetch FetchFunc) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	for {
		data, ok, err := c.ReadAll(name)
		if err != nil || ok {
			return data, err
		}
		data, retry, err := c.awaitFetch(ctx, name, fetch)
		if !retry {
			return data, err
		}
	}
}

// OpenOrFetch is GetOrFetch returning a Handle: on the item's file if it is cached (or once
// it has been fetched and stored), on the fetched bytes in memory if the cache would not keep
// them. The caller must Close the Handle.
func (c *Cache) OpenOrFetch(ctx context.Context, name string, fetch FetchFunc) (*Handle, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	for {
		h, ok, err := c.Get(name)
		if err != nil || ok {
			return h, err
		}
		data, retry, err := c.awaitFetch(ctx, name, fetch)
		if retry {
			continue
		}
		if err != nil {
			return nil, err
		}
		if h, ok, err := c.openFile(name); err == nil && ok {
			return h, nil
		}
		return &Handle{data: data, size: int64(len(data))}, nil
	}
}

// awaitFetch joins the fetch of name in progress or starts one. retry reports that the
// caller should look in the cache again: the item was stored meanwhile, or the fetch it
// waited for was abandoned by its runner's context while the caller's is still live.
func (c *Cache) awaitFetch(ctx context.Context, name string, fetch FetchFunc) (data []byte, retry bool, err error) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	if _, ok := c.mu.items[name]; ok {
		// Stored since our look: a fetch finished between the two.
		c.mu.Unlock()
		return nil, true, nil
	}
	if f, ok := c.mu.flights[name]; ok {
		f.waiters++
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if f.err != nil && isContextError(f.err) && ctx.Err() == nil {
			return nil, true, nil
		}
		return f.data, false, f.err
	}
	f := &flight{done: make(chan struct{})}
	c.mu.flights[name] = f
	c.mu.Unlock()

	c.runFetch(ctx, name, f, fetch)
	return f.data, false, f.err
}

// runFetch runs fetch for flight f, stores the result and releases the waiters. The item is
// stored before the flight is removed, so a caller never misses both.
func (c *Cache) runFetch(ctx context.Context, name string, f *flight, fetch FetchFunc) {
	finished := false
	defer func() {
		if !finished { // fetch panicked: release the waiters, let the panic go on
			f.err = fmt.Errorf("%w: %q", errFetchPanicked, name)
			c.endFlight(name, f)
		}
	}()
	c.fetches.Add(1)
	data, err := fetch(ctx)
	if err == nil {
		if perr := c.Put(name, data); perr != nil && !errors.Is(perr, ErrTooLarge) && !errors.Is(perr, ErrClosed) {
			c.log.Warn("diskcache: cannot store a fetched item", "dir", c.dir, "name", name, "err", perr)
		}
	}
	f.data, f.err = data, err
	finished = true
	c.endFlight(name, f)
}

func (c *Cache) endFlight(name string, f *flight) {
	c.mu.Lock()
	if c.mu.flights[name] == f {
		delete(c.mu.flights, name)
	}
	c.mu.Unlock()
	close(f.done)
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
