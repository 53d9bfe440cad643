package isledb

import (
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/memtable"
	"github.com/isledb/isledb/internal/mergeiter"
)

// UnflushedIterator walks the newest unflushed write of each key in a range, as the
// writer's memtables held them at one instant, without copying them: it pins the
// memtables (their memory is not recycled until Close) and reads them in place while the
// writer goes on writing. Writes made after the iterator was created are not seen, so a
// batch is seen whole or not at all. It is not safe for concurrent use; Close it when done.
type UnflushedIterator struct {
	mts        []*memtable.Memtable
	merge      *mergeiter.Iterator
	flushedSeq uint64
	seq        uint64
	now        int64
	started    bool
	closed     bool
}

// NewUnflushedIterator returns an iterator over the newest unflushed write of every key in
// [minKey, maxKey] (nil bounds are unbounded; both inclusive), deletes included, in key
// order; see ScanUnflushed for what "unflushed" means. Its cost does not depend on how many
// writes the range holds: it copies nothing. The keys and values it returns are valid until
// the next call to Next or Close.
func (w *Writer) NewUnflushedIterator(minKey, maxKey []byte) (*UnflushedIterator, error) {
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	u := &UnflushedIterator{flushedSeq: uint64(w.mu.flushedSeq), now: time.Now().UnixNano()}
	if w.mu.nextSeq > 0 {
		u.seq = uint64(w.mu.nextSeq) - 1
	}
	// Pinned under the lock: a frozen memtable leaves the queue (and is unreferenced) only
	// under it, so each one is still live here.
	u.mts = make([]*memtable.Memtable, 0, 1+len(w.mu.immutables))
	u.mts = append(u.mts, w.mu.active)
	for _, f := range w.mu.immutables {
		u.mts = append(u.mts, f.mt)
	}
	for _, mt := range u.mts {
		mt.Ref()
	}
	w.mu.Unlock()
	inputs := make([]mergeiter.Input, len(u.mts))
	for i, mt := range u.mts {
		inputs[i] = &boundedMemIter{it: mt.NewIterator(), maxSeq: base.SeqNum(u.seq)}
	}
	u.merge = mergeiter.New(inputs, mergeiter.Options{Lower: minKey, Upper: maxKey, Mode: mergeiter.ModeNewest, Now: u.now})
	return u, nil
}

// FlushedSeq is the writer's flushed sequence number when the iterator was created: every
// write up to it is in the manifest, so a Reader at a version covering it, together with
// this iterator, sees every write made by then.
func (u *UnflushedIterator) FlushedSeq() uint64 { return u.flushedSeq }

// Seq is the sequence number of the newest write the writer had made when the iterator was
// created: the iterator sees no write above it.
func (u *UnflushedIterator) Seq() uint64 { return u.seq }

// Next moves to the next key (the first, on the first call) and reports whether there is
// one.
func (u *UnflushedIterator) Next() bool {
	if u.closed {
		return false
	}
	if !u.started {
		u.started = true
		return u.merge.First()
	}
	return u.merge.Next()
}

// Key returns the current key.
func (u *UnflushedIterator) Key() []byte { return u.merge.Key() }

// Value returns the current value (nil for a delete or an expired value).
func (u *UnflushedIterator) Value() []byte {
	if u.Deleted() {
		return nil
	}
	return u.merge.Value()
}

// Deleted reports whether the current key's newest write is a delete, or a value whose TTL
// had passed when the iterator was created.
func (u *UnflushedIterator) Deleted() bool {
	return u.merge.Kind() == base.KindDelete || mergeiter.Expired(u.merge.Expiry(), u.now)
}

// EntrySeq returns the current write's sequence number.
func (u *UnflushedIterator) EntrySeq() uint64 { return uint64(u.merge.Seq()) }

// Close releases the memtables. Closing twice is harmless.
func (u *UnflushedIterator) Close() error {
	if u.closed {
		return nil
	}
	u.closed = true
	err := u.merge.Close()
	for _, mt := range u.mts {
		mt.Unref()
	}
	u.mts = nil
	return err
}

// boundedMemIter is a memtable iterator that hides entries above maxSeq (writes made after
// the view's instant). A key's entries are in it newest first, so hiding the newer ones
// leaves the key's version of that instant first.
type boundedMemIter struct {
	it     *memtable.Iterator
	maxSeq base.SeqNum
}

func (b *boundedMemIter) skip(ok bool) bool {
	for ok && b.it.Entry().Seq > b.maxSeq {
		ok = b.it.Next()
	}
	return ok
}

func (b *boundedMemIter) First() bool            { return b.skip(b.it.First()) }
func (b *boundedMemIter) SeekGE(key []byte) bool { return b.skip(b.it.SeekGE(key)) }
func (b *boundedMemIter) Next() bool             { return b.skip(b.it.Next()) }
func (b *boundedMemIter) Valid() bool            { return b.it.Valid() }
func (b *boundedMemIter) Key() []byte            { return b.it.Key() }
func (b *boundedMemIter) Value() []byte          { return b.it.Entry().Value }
func (b *boundedMemIter) Seq() base.SeqNum       { return b.it.Entry().Seq }
func (b *boundedMemIter) Kind() base.Kind        { return b.it.Entry().Kind }
func (b *boundedMemIter) Expiry() int64          { return b.it.Entry().Expiry }
func (b *boundedMemIter) Err() error             { return nil }
func (b *boundedMemIter) Close() error           { return nil }
