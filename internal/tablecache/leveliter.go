package tablecache

import (
	"context"

	"github.com/isledb/isledb/internal/runiter"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// LevelIter iterates the SSTs of a sorted run (sorted by key, not overlapping) as one
// sequence in internal order, opening one SST at a time through the cache. It has the
// method set of mergeiter.Input.
type LevelIter = runiter.Iter

// NewLevelIter returns an iterator over ssts restricted to [lower, upper].
func (c *Cache) NewLevelIter(ctx context.Context, ssts []manifest.SSTMeta, lower, upper []byte) *LevelIter {
	return runiter.New(cachedRun{ctx: ctx, c: c, ssts: ssts}, runiter.Options{Lower: lower, Upper: upper})
}

// NewTableIter returns an iterator over one SST restricted to [lower, upper].
func (c *Cache) NewTableIter(ctx context.Context, sst manifest.SSTMeta, lower, upper []byte) *LevelIter {
	return c.NewLevelIter(ctx, []manifest.SSTMeta{sst}, lower, upper)
}

// cachedRun is a sorted run whose SSTs are opened through the cache; leaving one releases
// its handle.
type cachedRun struct {
	ctx  context.Context
	c    *Cache
	ssts []manifest.SSTMeta
}

func (r cachedRun) Len() int { return len(r.ssts) }

func (r cachedRun) Bounds(i int) ([]byte, []byte) { return r.ssts[i].MinKey, r.ssts[i].MaxKey }

func (r cachedRun) Open(i int, lower, upper []byte) (*sstable.Iterator, func(bool) error, error) {
	h, err := r.c.Get(r.ctx, &r.ssts[i])
	if err != nil {
		return nil, nil, err
	}
	it := h.Reader().NewIter(r.ctx, sstable.IterOptions{Lower: lower, Upper: upper})
	return it, func(bool) error { h.Release(); return nil }, nil
}
