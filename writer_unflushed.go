package isledb

import (
	"bytes"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/memtable"
)

// UnflushedEntry is a write the writer holds in memory that is not in the manifest yet:
// the newest such write of its key. Key and Value are copies owned by the caller.
type UnflushedEntry struct {
	Key   []byte
	Value []byte // nil for a delete
	// Deleted is set for a delete, and for a value whose TTL has passed.
	Deleted bool
	// Seq is the write's sequence number.
	Seq uint64
}

// UnflushedStats describes the writer's memtables.
type UnflushedStats struct {
	// Memtables counts the active memtable (if not empty) and the frozen ones waiting for
	// their flush.
	Memtables int
	// Bytes is the memory the entries of those memtables take (keys, values, overhead).
	Bytes int64
	// Entries counts the writes they hold.
	Entries int
	// FlushedSeq: every write with a sequence number up to it is in the manifest.
	FlushedSeq uint64
}

// The lookups below read the memtables under the writer's lock, for the whole read, and
// copy what they return. That is what keeps them safe if memtables are reused: a frozen
// memtable leaves the flush queue under that lock once its SST is in the manifest, so it
// cannot leave the queue (and be recycled) while a lookup holding the lock reads it, and
// nothing the caller keeps points into memtable memory.

// GetUnflushed returns the newest write of key that the writer holds in memory and has
// not flushed yet (found false if there is none: the key's newest write, if any, is in
// the manifest). flushedSeq is the writer's flushed sequence number at the lookup: every
// write up to it is in the manifest, so a Reader refreshed after the call sees them.
// Together the two give read-your-writes on one process: look here first, and read the
// manifest (at a version covering flushedSeq) only when found is false.
func (w *Writer) GetUnflushed(key []byte) (e UnflushedEntry, found bool, flushedSeq uint64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return UnflushedEntry{}, false, 0, err
	}
	flushedSeq = uint64(w.mu.flushedSeq)
	now := time.Now().UnixNano()
	if me, ok := w.mu.active.Get(key); ok {
		return unflushedOf(me, now), true, flushedSeq, nil
	}
	for i := len(w.mu.immutables) - 1; i >= 0; i-- { // newest first
		if me, ok := w.mu.immutables[i].mt.Get(key); ok {
			return unflushedOf(me, now), true, flushedSeq, nil
		}
	}
	return UnflushedEntry{}, false, flushedSeq, nil
}

// ScanUnflushed returns the newest unflushed write of every key in [minKey, maxKey] (nil
// bounds are unbounded; both inclusive) in key order, deletes included, and the writer's
// flushed sequence number at the scan (see GetUnflushed). Its cost is proportional to the
// unflushed writes in the range: it copies them all.
func (w *Writer) ScanUnflushed(minKey, maxKey []byte) (entries []UnflushedEntry, flushedSeq uint64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return nil, 0, err
	}
	flushedSeq = uint64(w.mu.flushedSeq)
	now := time.Now().UnixNano()
	// Newest memtable first: the first version of a key met across them is the newest.
	mts := make([]*memtable.Memtable, 0, 1+len(w.mu.immutables))
	mts = append(mts, w.mu.active)
	for i := len(w.mu.immutables) - 1; i >= 0; i-- {
		mts = append(mts, w.mu.immutables[i].mt)
	}
	if len(mts) == 1 {
		return scanMemtable(mts[0], minKey, maxKey, now, nil), flushedSeq, nil
	}
	var merged []UnflushedEntry
	for _, mt := range mts {
		merged = mergeUnflushed(merged, scanMemtable(mt, minKey, maxKey, now, nil))
	}
	return merged, flushedSeq, nil
}

// UnflushedStats returns the sizes of the writer's memtables.
func (w *Writer) UnflushedStats() UnflushedStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := UnflushedStats{FlushedSeq: uint64(w.mu.flushedSeq)}
	if !w.mu.active.Empty() {
		s.Memtables++
		s.Bytes += w.mu.active.Size()
		s.Entries += w.mu.active.Len()
	}
	for _, f := range w.mu.immutables {
		s.Memtables++
		s.Bytes += f.mt.Size()
		s.Entries += f.mt.Len()
	}
	return s
}

func unflushedOf(me memtable.Entry, now int64) UnflushedEntry {
	e := UnflushedEntry{Key: bytes.Clone(me.Key), Seq: uint64(me.Seq)}
	if me.Kind == base.KindDelete || expired(me.Expiry, now) {
		e.Deleted = true
		return e
	}
	e.Value = bytes.Clone(me.Value)
	if e.Value == nil {
		e.Value = []byte{}
	}
	return e
}

// scanMemtable appends to dst the newest entry of each key of mt in [minKey, maxKey].
func scanMemtable(mt *memtable.Memtable, minKey, maxKey []byte, now int64, dst []UnflushedEntry) []UnflushedEntry {
	it := mt.NewIterator()
	ok := it.First()
	if minKey != nil {
		ok = it.SeekGE(minKey)
	}
	var last []byte
	for ; ok; ok = it.Next() {
		k := it.Key()
		if maxKey != nil && bytes.Compare(k, maxKey) > 0 {
			break
		}
		if last != nil && bytes.Equal(k, last) {
			continue // an older version (internal order: key ascending, seq descending)
		}
		last = k
		dst = append(dst, unflushedOf(it.Entry(), now))
	}
	return dst
}

// mergeUnflushed merges two key-ordered lists; on equal keys the entry of newer wins.
func mergeUnflushed(newer, older []UnflushedEntry) []UnflushedEntry {
	if len(newer) == 0 {
		return older
	}
	if len(older) == 0 {
		return newer
	}
	out := make([]UnflushedEntry, 0, len(newer)+len(older))
	i, j := 0, 0
	for i < len(newer) && j < len(older) {
		switch c := bytes.Compare(newer[i].Key, older[j].Key); {
		case c < 0:
			out = append(out, newer[i])
			i++
		case c > 0:
			out = append(out, older[j])
			j++
		default:
			out = append(out, newer[i])
			i++
			j++
		}
	}
	out = append(out, newer[i:]...)
	return append(out, older[j:]...)
}
