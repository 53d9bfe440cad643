package isledb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/mergeiter"
	"github.com/isledb/isledb/manifest"
)

// Iterator walks the visible key-value pairs of a key range in key order, at the
// manifest version the reader had when the iterator was made (Refresh does not move it).
// The first Next moves to the first pair; SeekGE moves anywhere in the range. Key and
// Value are valid until the next call that moves the iterator. Not safe for concurrent
// use; Close it to release the SSTs it holds.
type Iterator struct {
	r       *Reader
	ctx     context.Context
	m       *manifest.Manifest
	it      *mergeiter.Iterator
	value   []byte
	err     error
	started bool
	valid   bool
	closed  bool
}

// NewIterator returns an iterator over [opts.MinKey, opts.MaxKey] (inclusive; nil is
// unbounded). ctx bounds the reads the iterator makes.
func (r *Reader) NewIterator(ctx context.Context, opts IteratorOptions) (*Iterator, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	return r.newIterator(ctx, r.cur.Load(), time.Now().UnixNano(), opts, r.walInput())
}

// newIterator is NewIterator at manifest version m, judging expiry at now (unix nanoseconds).
// extra, if not nil, is one more input (the bucket WAL overlay, reader_bucketwal.go).
func (r *Reader) newIterator(ctx context.Context, m *manifest.Manifest, now int64, opts IteratorOptions, extra ...mergeiter.Input) (*Iterator, error) {
	if opts.MinKey != nil && opts.MaxKey != nil && bytes.Compare(opts.MinKey, opts.MaxKey) > 0 {
		return nil, fmt.Errorf("%w: MinKey %q is above MaxKey %q", ErrInvalidOptions, opts.MinKey, opts.MaxKey)
	}
	lower, upper := opts.MinKey, opts.MaxKey
	var inputs []mergeiter.Input
	for _, sst := range m.L0SSTs {
		if overlaps(sst.MinKey, sst.MaxKey, lower, upper) {
			inputs = append(inputs, r.tables.NewTableIter(ctx, sst, lower, upper))
		}
	}
	for _, run := range m.SortedRuns {
		if len(run.SSTs) > 0 && overlaps(run.SSTs[0].MinKey, run.SSTs[len(run.SSTs)-1].MaxKey, lower, upper) {
			inputs = append(inputs, r.tables.NewLevelIter(ctx, run.SSTs, lower, upper))
		}
	}
	for _, in := range extra {
		if in != nil {
			inputs = append(inputs, in)
		}
	}
	it := mergeiter.New(inputs, mergeiter.Options{Lower: lower, Upper: upper, Now: now})
	return &Iterator{r: r, ctx: ctx, m: m, it: it}, nil
}

// overlaps reports whether [lo, hi] meets [lower, upper] (nil bounds unbounded).
func overlaps(lo, hi, lower, upper []byte) bool {
	return (lower == nil || bytes.Compare(hi, lower) >= 0) && (upper == nil || bytes.Compare(lo, upper) <= 0)
}

// Next moves to the next pair (the first, on the first call) and reports whether there is
// one.
func (it *Iterator) Next() bool {
	if it.closed || it.err != nil {
		return false
	}
	var ok bool
	if !it.started {
		it.started = true
		ok = it.it.First()
	} else {
		if !it.valid {
			return false
		}
		ok = it.it.Next()
	}
	return it.settle(ok)
}

// SeekGE moves to the first pair whose key is at least target (and within the range).
func (it *Iterator) SeekGE(target []byte) bool {
	if it.closed || it.err != nil {
		return false
	}
	it.started = true
	return it.settle(it.it.SeekGE(target))
}

// settle records where the merge stopped, resolving a blob reference.
func (it *Iterator) settle(ok bool) bool {
	it.valid, it.value = false, nil
	if !ok {
		if err := it.it.Err(); err != nil {
			it.err = fmt.Errorf("isledb: iterate: %w", err)
		}
		return false
	}
	if it.it.Kind() == base.KindBlobRef {
		v, err := it.r.blobValue(it.ctx, it.it.Value())
		if err != nil {
			it.err = fmt.Errorf("isledb: iterate: key %q: %w", it.it.Key(), err)
			return false
		}
		it.value = v
	} else {
		it.value = it.it.Value()
	}
	it.valid = true
	return true
}

// Valid reports whether the iterator is at a pair.
func (it *Iterator) Valid() bool { return it.valid }

// Key returns the current key.
func (it *Iterator) Key() []byte {
	if !it.valid {
		return nil
	}
	return it.it.Key()
}

// Value returns the current value.
func (it *Iterator) Value() []byte {
	if !it.valid {
		return nil
	}
	return it.value
}

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator's SSTs and returns its error, if any.
func (it *Iterator) Close() error {
	if it.closed {
		return it.err
	}
	it.closed, it.valid = true, false
	if err := it.it.Close(); err != nil && it.err == nil && !errors.Is(err, context.Canceled) {
		it.err = err
	}
	return it.err
}
