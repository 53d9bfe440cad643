package kv

import (
	"bytes"
	"context"
	"fmt"

	"github.com/isledb/isledb"
)

// ScanPrefix calls fn for every key with the given prefix, in key order, with its newest
// value; deleted keys are skipped. Return false from fn to stop. key and value.Bytes are
// valid only during the call (copy them to keep them). fn may call the store's methods,
// except Close.
// The scan sees the store as it was at one instant after it started: every write
// acknowledged before it started, and each batch or transaction commit whole or not at
// all; writes made during it may or may not be seen.
func (s *Store) ScanPrefix(prefix []byte, fn func(key []byte, value Value) bool) error {
	return s.scan("scan prefix", prefix, prefixEnd(prefix), prefix, fn)
}

// ScanRange calls fn for every key in [start, end) in key order, like ScanPrefix; a nil
// start or end is unbounded.
func (s *Store) ScanRange(start, end []byte, fn func(key []byte, value Value) bool) error {
	if start != nil && end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	return s.scan("scan range", start, end, nil, fn)
}

// prefixEnd returns the smallest key greater than every key with prefix, or nil if there
// is none (the prefix is empty or all 0xFF bytes).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// scan merges the writer's unflushed writes in [start, end) with the reader's view of the
// manifest at the same instant (liveView): on an equal key the unflushed write is the
// newer. The unflushed writes are read in place, so a short scan costs the same whatever
// the memtables hold.
func (s *Store) scan(op string, start, end, prefix []byte, fn func(key []byte, value Value) bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.stats.scans.Add(1)
	// Engine bounds are inclusive: take end as the upper bound and skip the key equal to
	// it.
	unflushed, snap, err := s.liveView(op, start, end)
	if err != nil {
		return err
	}
	defer unflushed.Close()
	it, err := snap.NewIterator(context.Background(), isledb.IteratorOptions{MinKey: start, MaxKey: end})
	_ = snap.Close() // the iterator keeps working until it is closed
	if err != nil {
		return translate(op, err)
	}
	return mergeScan(op, unflushed, it, end, prefix, fn)
}

// liveView returns a consistent view of [start, end] (nil bounds unbounded, both
// inclusive): the writer's unflushed writes as an iterator pinning the memtables at one
// instant, and an engine snapshot holding every write flushed by then and none written
// after. A flush between the two moves the reader's version past that instant: then it
// takes both again.
func (s *Store) liveView(op string, start, end []byte) (*isledb.UnflushedIterator, *isledb.Snapshot, error) {
	for {
		u, err := s.w.NewUnflushedIterator(start, end)
		if err != nil {
			return nil, nil, translate(op, err)
		}
		r, err := s.readerFor(u.FlushedSeq())
		if err != nil {
			_ = u.Close()
			return nil, nil, err
		}
		snap, err := r.Snapshot()
		if err != nil {
			_ = u.Close()
			return nil, nil, translate(op, err)
		}
		if snap.Seq() <= u.Seq() {
			return u, snap, nil
		}
		// A flush published writes made after the iterator's instant: take both again.
		_ = snap.Close()
		_ = u.Close()
	}
}

// unflushedCursor is the newest unflushed write of each key, in key order: an
// isledb.UnflushedIterator, or a snapshot's copy (sliceCursor).
type unflushedCursor interface {
	Next() bool
	Key() []byte
	Value() []byte
	Deleted() bool
}

// sliceCursor walks a copied list of unflushed writes.
type sliceCursor struct {
	es []isledb.UnflushedEntry
	i  int // the current entry is es[i-1]
}

func (c *sliceCursor) Next() bool    { c.i++; return c.i <= len(c.es) }
func (c *sliceCursor) Key() []byte   { return c.es[c.i-1].Key }
func (c *sliceCursor) Value() []byte { return c.es[c.i-1].Value }
func (c *sliceCursor) Deleted() bool { return c.es[c.i-1].Deleted }

// mergeScan calls fn for every live key of unflushed (newest writes, in key order) merged
// with it, up to end (exclusive) and within prefix: on an equal key the unflushed write is
// the newer. It closes it.
func mergeScan(op string, unflushed unflushedCursor, it *isledb.Iterator, end, prefix []byte, fn func(key []byte, value Value) bool) error {
	inRange := func(k []byte) bool {
		return (end == nil || bytes.Compare(k, end) < 0) && (prefix == nil || bytes.HasPrefix(k, prefix))
	}
	emit := func(k, raw []byte) (bool, error) {
		v, err := decodeStored(raw)
		if err != nil {
			return false, fmt.Errorf("kv: %s: key %q: %w: %w", op, k, ErrCorruptedData, err)
		}
		return fn(k, v), nil
	}
	uOK := unflushed.Next()
	itOK := it.Next()
	var ferr error
	for {
		var (
			key, raw []byte
			deleted  bool
			advance  bool // key and raw are the iterator's: move it on after the call
			next     bool // key and raw are the cursor's: move it on after the call
		)
		switch {
		case uOK && (!itOK || bytes.Compare(unflushed.Key(), it.Key()) <= 0):
			if itOK && bytes.Equal(unflushed.Key(), it.Key()) {
				itOK = it.Next() // shadowed by the unflushed write
			}
			key, raw, deleted, next = unflushed.Key(), unflushed.Value(), unflushed.Deleted(), true
		case itOK:
			key, raw, advance = it.Key(), it.Value(), true
		}
		if key == nil || !inRange(key) {
			break // both sources are done, or past the range (keys come in order)
		}
		if !deleted {
			cont, err := emit(key, raw)
			if err != nil {
				ferr = err
				break
			}
			if !cont {
				break
			}
		}
		if advance {
			itOK = it.Next()
		}
		if next {
			uOK = unflushed.Next()
		}
	}
	cerr := it.Close()
	if ferr != nil {
		return ferr
	}
	return translate(op, cerr)
}
