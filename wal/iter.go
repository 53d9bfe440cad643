package wal

import (
	"fmt"
	"io"
)

// Iterator reads the entries of one stream in sequence order. It sees the entries that
// existed when it was created, from its start sequence number on. Use it like a bufio.Scanner:
//
//	it, err := w.Iter("events", 0)
//	if err != nil { ... }
//	defer it.Close()
//	for it.Next() {
//		process(it.ID(), it.Entry())
//	}
//	if err := it.Err(); err != nil { ... }
//
// An Iterator is not safe for concurrent use, but any number of iterators may run alongside
// appends, Get and Truncate. An iterator pins the segment file it is reading, so Truncate may
// delete segments under it only once it has moved on; if it reaches a segment that Truncate
// deleted, Next returns false and Err reports ErrSegmentNotFound.
type Iterator struct {
	s    *stream
	next SeqNum // sequence number of the next entry to read
	end  SeqNum // one past the last entry visible to this iterator

	id    SeqNum
	entry []byte
	err   error
	done  bool

	h      *segHandle    // the segment being read, pinned
	segEnd SeqNum        // one past the last entry to read from h
	rr     *recordReader // positioned in h
	out    []byte        // decode buffer owned by the iterator
}

// Next advances to the next entry and reports whether there is one. It returns false at the
// end of the entries visible to the iterator, after an error (see Err), and after Close.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	if it.next >= it.end {
		it.stop(nil)
		return false
	}
	if it.h == nil || it.next >= it.segEnd {
		if err := it.openSegment(); err != nil {
			it.stop(err)
			return false
		}
	}
	rec, err := it.rr.next()
	if err == io.EOF {
		err = &CorruptionError{Path: it.h.seg.path, Offset: it.rr.off,
			Reason: fmt.Sprintf("segment ends before sequence number %d", it.next)}
	}
	if err != nil {
		it.stop(err)
		return false
	}
	mapped := it.h.data != nil
	e, err := decodePayload(it.out, rec.flags, rec.payload, mapped, rec.off, it.h.seg.path)
	if err != nil {
		it.stop(err)
		return false
	}
	if mapped || rec.flags&recordFlagLZ4 != 0 {
		it.out = e // e is in the iterator's own buffer
	}
	it.id, it.entry = rec.id, e
	it.next++
	return true
}

// ID returns the sequence number of the current entry.
func (it *Iterator) ID() SeqNum { return it.id }

// Entry returns the current entry. The slice is valid only until the next call to Next or
// Close; copy it to keep it.
func (it *Iterator) Entry() []byte { return it.entry }

// Err returns the error that stopped the iterator, or nil if it stopped at the end (or has
// not stopped).
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator's resources. It always returns nil, and may be called more than
// once.
func (it *Iterator) Close() error {
	it.stop(nil)
	return nil
}

func (it *Iterator) stop(err error) {
	if it.err == nil {
		it.err = err
	}
	it.done = true
	it.entry = nil
	it.release()
}

func (it *Iterator) release() {
	if it.h != nil {
		it.s.w.handles.release(it.h)
		it.h = nil
	}
}

// openSegment moves the iterator to the segment holding it.next.
func (it *Iterator) openSegment() error {
	it.release()
	s := it.s
	for {
		segs := s.segments()
		i := findSegment(segs, it.next)
		if i < 0 {
			return fmt.Errorf("%w: stream %q: entries before %d were truncated while iterating",
				ErrSegmentNotFound, s.name, segs[0].start)
		}
		seg := segs[i]
		if i < len(segs)-1 {
			return it.openSealed(seg, segs[i+1].start)
		}
		off, size, active, err := s.activeView(seg, it.next)
		if err != nil {
			return err
		}
		if !active {
			continue // sealed since the snapshot
		}
		h, err := s.w.handles.acquire(seg, false)
		if err != nil {
			return err
		}
		it.h, it.segEnd = h, it.end
		it.position(nil, h, size, off)
		return nil
	}
}

// openSealed positions the iterator in the sealed segment seg, which ends before next.
func (it *Iterator) openSealed(seg *segment, next SeqNum) error {
	s := it.s
	h, err := s.w.handles.acquire(seg, true)
	if err != nil {
		return err
	}
	it.h, it.segEnd = h, min(next, it.end)
	off := seg.hdrLen
	if it.next > seg.start {
		idx, err := h.index(int(next-seg.start), s.w.opts.ReadBufferSize)
		if err != nil {
			return err
		}
		off = int64(idx[it.next-seg.start])
	}
	it.position(h.data, h, h.size, off)
	return nil
}

func (it *Iterator) position(data []byte, h *segHandle, size, off int64) {
	if it.rr == nil {
		it.rr = newRecordReader(data, h.f, size, h.seg.path, off, it.next, it.s.w.opts.ReadBufferSize)
		return
	}
	var src io.ReaderAt = h.f
	if data != nil {
		src = nil
	}
	if it.rr.buf == nil && data == nil {
		it.rr.buf = make([]byte, it.s.w.opts.ReadBufferSize)
	}
	it.rr.reset(data, src, size, h.seg.path, off, it.next)
}

// activeView returns, for the active segment seg, the offset of record id and the size of the
// data written to the file. active is false if seg is no longer the active segment.
func (s *stream) activeView(seg *segment, id SeqNum) (off, size int64, active bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	aw := s.mu.active
	if aw.seg != seg {
		return 0, 0, false, nil
	}
	k := int(id - seg.start)
	if k >= len(aw.offsets) {
		return 0, 0, true, fmt.Errorf("%w: stream %q seq %d", ErrNotFound, s.name, id)
	}
	if int64(aw.offsets[k]) >= aw.size {
		if err := s.flushLocked(); err != nil {
			return 0, 0, true, err
		}
	}
	return int64(aw.offsets[k]), aw.size, true, nil
}
