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
// manifest at the same instant (view): on an equal key the unflushed write is the newer.
func (s *Store) scan(op string, start, end, prefix []byte, fn func(key []byte, value Value) bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.stats.scans.Add(1)
	// Engine bounds are inclusive: take end as the upper bound and skip the key equal to
	// it.
	unflushed, snap, err := s.view(op, start, end)
	if err != nil {
		return err
	}
	it, err := snap.NewIterator(context.Background(), isledb.IteratorOptions{MinKey: start, MaxKey: end})
	_ = snap.Close() // the iterator keeps working until it is closed
	if err != nil {
		return translate(op, err)
	}
	return mergeScan(op, unflushed, it, end, prefix, fn)
}

// mergeScan calls fn for every live key of unflushed (newest writes, in key order) merged
// with it, up to end (exclusive) and within prefix: on an equal key the unflushed write is
// the newer. It closes it.
func mergeScan(op string, unflushed []isledb.UnflushedEntry, it *isledb.Iterator, end, prefix []byte, fn func(key []byte, value Value) bool) error {
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
	i := 0
	itOK := it.Next()
	var ferr error
	for {
		var (
			key, raw []byte
			deleted  bool
			advance  bool // key and raw are the iterator's: move it on after the call
		)
		switch {
		case i < len(unflushed) && (!itOK || bytes.Compare(unflushed[i].Key, it.Key()) <= 0):
			u := unflushed[i]
			i++
			if itOK && bytes.Equal(u.Key, it.Key()) {
				itOK = it.Next() // shadowed by the unflushed write
			}
			key, raw, deleted = u.Key, u.Value, u.Deleted
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
	}
	cerr := it.Close()
	if ferr != nil {
		return ferr
	}
	return translate(op, cerr)
}
