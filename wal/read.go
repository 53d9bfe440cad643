package wal

import (
	"fmt"
	"io"
)

// get returns a copy of entry id.
func (s *stream) get(id SeqNum) ([]byte, error) {
	if uint64(id) >= s.nextSeq.Load() {
		return nil, fmt.Errorf("%w: stream %q seq %d", ErrNotFound, s.name, id)
	}
	for {
		segs := s.segments()
		i := findSegment(segs, id)
		if i < 0 {
			return nil, fmt.Errorf("%w: stream %q seq %d (truncated)", ErrNotFound, s.name, id)
		}
		seg := segs[i]
		if i < len(segs)-1 {
			return s.getSealed(seg, int(segs[i+1].start-seg.start), id)
		}
		off, end, active, err := s.locateActive(seg, id)
		if err != nil {
			return nil, err
		}
		if active {
			return s.getActive(seg, id, off, end)
		}
		// The segment was sealed since the snapshot: look again.
	}
}

// locateActive returns the byte range of record id in the active segment, writing out the
// buffer first if the record is still in it. active is false if seg is no longer active.
func (s *stream) locateActive(seg *segment, id SeqNum) (off, end int64, active bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	aw := s.mu.active
	if aw.seg != seg {
		return 0, 0, false, nil
	}
	if s.mu.err != nil {
		return 0, 0, true, s.mu.err
	}
	k := int(id - seg.start)
	off = int64(aw.offsets[k])
	if off >= aw.size {
		if err := s.flushLocked(); err != nil {
			return 0, 0, true, err
		}
	}
	end = aw.size
	if k+1 < len(aw.offsets) && int64(aw.offsets[k+1]) <= aw.size {
		end = int64(aw.offsets[k+1])
	}
	return off, end, true, nil
}

// getActive reads record id at [off, end) of the active segment seg.
func (s *stream) getActive(seg *segment, id SeqNum, off, end int64) ([]byte, error) {
	h, err := s.w.handles.acquire(seg, false)
	if err != nil {
		return nil, err
	}
	defer s.w.handles.release(h)
	b := make([]byte, end-off)
	if n, err := h.f.ReadAt(b, off); n < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ioErr("read segment", seg.path, err)
	}
	return decodeOne(b, id, off, seg.path, false)
}

// getSealed reads record id of the sealed segment seg, which holds count records.
func (s *stream) getSealed(seg *segment, count int, id SeqNum) ([]byte, error) {
	h, err := s.w.handles.acquire(seg, true)
	if err != nil {
		return nil, err
	}
	defer s.w.handles.release(h)
	idx, err := h.index(count, s.w.opts.ReadBufferSize)
	if err != nil {
		return nil, err
	}
	k := int(id - seg.start)
	off, end := int64(idx[k]), h.size
	if k+1 < len(idx) {
		end = int64(idx[k+1])
	}
	switch {
	case h.data != nil:
		return decodeOne(h.data[off:end], id, off, seg.path, true)
	case s.w.blocks != nil:
		b, err := s.w.blocks.readAt(h, off, int(end-off))
		if err != nil {
			return nil, err
		}
		return decodeOne(b, id, off, seg.path, false)
	}
	b := make([]byte, end-off)
	if n, err := h.f.ReadAt(b, off); n < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ioErr("read segment", seg.path, err)
	}
	return decodeOne(b, id, off, seg.path, false)
}

// decodeOne decodes the record with sequence number id at the start of b. copyOut must be set
// when b is not the caller's to keep (a mapping).
func decodeOne(b []byte, id SeqNum, off int64, path string, copyOut bool) ([]byte, error) {
	flags, payload, _, err := parseRecord(b, id, off, path)
	if _, short := err.(errShortRecord); short {
		return nil, &CorruptionError{Path: path, Offset: off, Reason: "truncated record"}
	}
	if err != nil {
		return nil, err
	}
	return decodePayload(nil, flags, payload, copyOut, off, path)
}
