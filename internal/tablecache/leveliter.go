package tablecache

import (
	"bytes"
	"context"
	"sort"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// LevelIter iterates the SSTs of a sorted run (sorted by key, not overlapping) as one
// sequence in internal order, opening one SST at a time. It has the method set of
// mergeiter.Input.
type LevelIter struct {
	ctx          context.Context
	c            *Cache
	ssts         []manifest.SSTMeta
	lower, upper []byte // inclusive, nil: unbounded
	idx          int
	h            Handle
	it           *sstable.Iterator
	err          error
}

// NewLevelIter returns an iterator over ssts restricted to [lower, upper].
func (c *Cache) NewLevelIter(ctx context.Context, ssts []manifest.SSTMeta, lower, upper []byte) *LevelIter {
	return &LevelIter{ctx: ctx, c: c, ssts: ssts, lower: lower, upper: upper, idx: -1}
}

// NewTableIter returns an iterator over one SST restricted to [lower, upper].
func (c *Cache) NewTableIter(ctx context.Context, sst manifest.SSTMeta, lower, upper []byte) *LevelIter {
	return c.NewLevelIter(ctx, []manifest.SSTMeta{sst}, lower, upper)
}

// load positions the iterator at SST i (closing the current one), unpositioned inside it.
func (l *LevelIter) load(i int) bool {
	l.closeCurrent()
	l.idx = i
	if i >= len(l.ssts) || l.err != nil {
		return false
	}
	if l.upper != nil && bytes.Compare(l.ssts[i].MinKey, l.upper) > 0 {
		l.idx = len(l.ssts)
		return false
	}
	h, err := l.c.Get(l.ctx, &l.ssts[i])
	if err != nil {
		l.err = err
		return false
	}
	l.h = h
	l.it = h.Reader().NewIter(l.ctx, sstable.IterOptions{Lower: l.lower, Upper: l.upper})
	return true
}

func (l *LevelIter) closeCurrent() {
	if l.it != nil {
		if err := l.it.Close(); err != nil && l.err == nil {
			l.err = err
		}
		l.it = nil
		l.h.Release()
		l.h = Handle{}
	}
}

// settle moves forward through SSTs until the iterator is at an entry or exhausted.
func (l *LevelIter) settle(ok bool) bool {
	for !ok {
		if l.it != nil {
			if err := l.it.Err(); err != nil {
				l.err = err
				l.closeCurrent()
				return false
			}
		}
		if !l.load(l.idx+1) || !l.it.First() {
			if l.it == nil {
				return false
			}
			continue
		}
		ok = true
	}
	return true
}

// First moves to the first entry within the bounds.
func (l *LevelIter) First() bool {
	if l.lower != nil {
		return l.SeekGE(l.lower)
	}
	l.idx = -1
	return l.settle(false)
}

// SeekGE moves to the first entry whose user key is at least key.
func (l *LevelIter) SeekGE(key []byte) bool {
	if l.lower != nil && bytes.Compare(key, l.lower) < 0 {
		key = l.lower
	}
	i := sort.Search(len(l.ssts), func(i int) bool { return bytes.Compare(l.ssts[i].MaxKey, key) >= 0 })
	if !l.load(i) {
		return false
	}
	return l.settle(l.it.SeekGE(key))
}

// Next moves to the next entry.
func (l *LevelIter) Next() bool {
	if l.it == nil {
		return false
	}
	return l.settle(l.it.Next())
}

// Valid reports whether the iterator is at an entry.
func (l *LevelIter) Valid() bool { return l.it != nil && l.it.Valid() }

// Key returns the current user key.
func (l *LevelIter) Key() []byte { return l.it.Key() }

// Value returns the current value.
func (l *LevelIter) Value() []byte { return l.it.Value() }

// Seq returns the current sequence number.
func (l *LevelIter) Seq() base.SeqNum { return l.it.Seq() }

// Kind returns the current kind.
func (l *LevelIter) Kind() base.Kind { return l.it.Kind() }

// Expiry returns the current expiry.
func (l *LevelIter) Expiry() int64 { return l.it.Expiry() }

// Err returns the first error met.
func (l *LevelIter) Err() error { return l.err }

// Close releases the open SST.
func (l *LevelIter) Close() error {
	l.closeCurrent()
	l.idx = len(l.ssts)
	return l.err
}
