package kv

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/isledb/isledb"
)

// Snapshot is a consistent read view of the store: every write acknowledged before
// Store.Snapshot was called, and none made after it returned, whatever writes, flushes and
// compactions follow. A batch (Apply) or a transaction's commit is in it whole or not at
// all. A Snapshot is safe for concurrent use. Close it when done: it holds a copy of the
// writes not yet flushed when it was taken, and keeps the SSTs it reads cached.
//
// Validity: it reads the SSTs of the engine's manifest version at the time it was taken.
// Flush and Compact do not disturb it; a compacted-away SST is deleted from the directory
// by the engine's GC, no sooner than its grace period (10 minutes) after it left the
// manifest, so every read of a snapshot succeeds for at least that long after it was
// taken. After that, a read needing such an SST that the cache no longer holds fails with
// an error (take a new snapshot). Reads fail with ErrSnapshotClosed after Close, and with
// ErrStoreClosed once the store is closed.
type Snapshot struct {
	s    *Store
	snap *isledb.Snapshot
	// unflushed is the newest write of every key the writer held in memory, in key order:
	// the writes the manifest version does not hold.
	unflushed []isledb.UnflushedEntry
	closed    atomic.Bool
}

// Snapshot returns a read view of the store as it is now (see Snapshot). It copies the
// writes not yet flushed (at most the memtables' size); call Flush first to make it
// cheaper.
func (s *Store) Snapshot() (*Snapshot, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	u, snap, err := s.liveView("snapshot", nil, nil)
	if err != nil {
		return nil, err
	}
	// The snapshot outlives the memtables' pin: keep a copy of the unflushed writes.
	var unflushed []isledb.UnflushedEntry
	for u.Next() {
		e := isledb.UnflushedEntry{Key: bytes.Clone(u.Key()), Seq: u.EntrySeq(), Deleted: u.Deleted()}
		if !e.Deleted {
			e.Value = append([]byte{}, u.Value()...)
		}
		unflushed = append(unflushed, e)
	}
	if err := u.Close(); err != nil {
		_ = snap.Close()
		return nil, translate("snapshot", err)
	}
	return &Snapshot{s: s, snap: snap, unflushed: unflushed}, nil
}

// enter starts a read of the snapshot (leave when done).
func (sn *Snapshot) enter() error {
	if err := sn.s.enter(); err != nil {
		return err
	}
	if sn.closed.Load() {
		sn.s.leave()
		return ErrSnapshotClosed
	}
	return nil
}

// find returns the unflushed write of key, if the snapshot holds one.
func (sn *Snapshot) find(key []byte) (isledb.UnflushedEntry, bool) {
	u := sn.unflushed
	i := sort.Search(len(u), func(i int) bool { return bytes.Compare(u[i].Key, key) >= 0 })
	if i < len(u) && bytes.Equal(u[i].Key, key) {
		return u[i], true
	}
	return isledb.UnflushedEntry{}, false
}

// Get returns the value of key in the snapshot, or an error matching ErrKeyNotFound.
func (sn *Snapshot) Get(key []byte) (Value, error) {
	if len(key) == 0 {
		return Value{}, fmt.Errorf("kv: snapshot get: %w", ErrEmptyKey)
	}
	if err := sn.enter(); err != nil {
		return Value{}, err
	}
	defer sn.s.leave()
	sn.s.stats.reads.Add(1)
	var raw []byte
	if e, ok := sn.find(key); ok {
		if e.Deleted {
			return Value{}, fmt.Errorf("kv: snapshot get %q: %w", key, ErrKeyNotFound)
		}
		raw = bytes.Clone(e.Value) // the Value returned owns its bytes
	} else {
		v, ok, err := sn.snap.Get(context.Background(), key)
		if err != nil {
			return Value{}, translate(fmt.Sprintf("snapshot get %q", key), err)
		}
		if !ok {
			return Value{}, fmt.Errorf("kv: snapshot get %q: %w", key, ErrKeyNotFound)
		}
		raw = v
	}
	v, err := decodeStored(raw)
	if err != nil {
		return Value{}, fmt.Errorf("kv: snapshot get %q: %w: %w", key, ErrCorruptedData, err)
	}
	return v, nil
}

// GetInt64 returns the int64 value of key; ErrTypeMismatch if it holds another type.
func (sn *Snapshot) GetInt64(key []byte) (int64, error) {
	v, err := sn.Get(key)
	v, err = checkType(key, ValueTypeInt64, v, err)
	return v.Int64, err
}

// GetFloat64 returns the float64 value of key; ErrTypeMismatch if it holds another type.
func (sn *Snapshot) GetFloat64(key []byte) (float64, error) {
	v, err := sn.Get(key)
	v, err = checkType(key, ValueTypeFloat64, v, err)
	return v.Float64, err
}

// GetBool returns the bool value of key; ErrTypeMismatch if it holds another type.
func (sn *Snapshot) GetBool(key []byte) (bool, error) {
	v, err := sn.Get(key)
	v, err = checkType(key, ValueTypeBool, v, err)
	return v.Bool, err
}

// GetString returns the string value of key; ErrTypeMismatch if it holds another type.
func (sn *Snapshot) GetString(key []byte) (string, error) {
	v, err := sn.Get(key)
	v, err = checkType(key, ValueTypeString, v, err)
	return string(v.Bytes), err
}

// GetBytes returns the byte string value of key (the caller owns it); ErrTypeMismatch if
// it holds another type.
func (sn *Snapshot) GetBytes(key []byte) ([]byte, error) {
	v, err := sn.Get(key)
	v, err = checkType(key, ValueTypeBytes, v, err)
	return v.Bytes, err
}

// ScanPrefix is Store.ScanPrefix over the snapshot: every key with the prefix in key
// order, with its value in the snapshot.
func (sn *Snapshot) ScanPrefix(prefix []byte, fn func(key []byte, value Value) bool) error {
	return sn.scan("snapshot scan prefix", prefix, prefixEnd(prefix), prefix, fn)
}

// ScanRange is Store.ScanRange over the snapshot: every key in [start, end) in key order;
// a nil start or end is unbounded.
func (sn *Snapshot) ScanRange(start, end []byte, fn func(key []byte, value Value) bool) error {
	if start != nil && end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	return sn.scan("snapshot scan range", start, end, nil, fn)
}

func (sn *Snapshot) scan(op string, start, end, prefix []byte, fn func(key []byte, value Value) bool) error {
	if err := sn.enter(); err != nil {
		return err
	}
	defer sn.s.leave()
	sn.s.stats.scans.Add(1)
	u := sn.unflushed
	lo := 0
	if start != nil {
		lo = sort.Search(len(u), func(i int) bool { return bytes.Compare(u[i].Key, start) >= 0 })
	}
	hi := len(u)
	if end != nil {
		hi = sort.Search(len(u), func(i int) bool { return bytes.Compare(u[i].Key, end) > 0 })
	}
	// Engine bounds are inclusive: end is the upper bound, and mergeScan skips the key
	// equal to it.
	it, err := sn.snap.NewIterator(context.Background(), isledb.IteratorOptions{MinKey: start, MaxKey: end})
	if err != nil {
		return translate(op, err)
	}
	return mergeScan(op, &sliceCursor{es: u[lo:max(lo, hi)]}, it, end, prefix, fn)
}

// Close releases the snapshot. Later reads of it fail with ErrSnapshotClosed; Close is
// idempotent.
func (sn *Snapshot) Close() error {
	if sn.closed.Swap(true) {
		return nil
	}
	return sn.snap.Close()
}

// Release is Close, for callers used to releasing snapshots.
func (sn *Snapshot) Release() error { return sn.Close() }
