package wal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// openStream recovers a stream from its directory: it lists the segments, removes leftover
// temporary files, and scans the last segment to find its last complete commit unit,
// applying the corruption policy to anything after it. Sealed segments are verified lazily,
// when first read.
func openStream(w *WAL, name string) (*stream, error) {
	s := newStream(w, name)
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, ioErr("read stream directory", s.dir, err)
	}
	var segs []*segment
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, tempSuffix) {
			// A segment whose creation did not finish; it was never visible.
			if err := os.Remove(filepath.Join(s.dir, n)); err != nil {
				return nil, ioErr("remove temporary file", filepath.Join(s.dir, n), err)
			}
			continue
		}
		if !strings.HasSuffix(n, segmentSuffix) {
			continue
		}
		start, ok := parseSegmentFileName(n)
		if !ok || e.IsDir() {
			return nil, fmt.Errorf("%w: %s", ErrInvalidFilename, filepath.Join(s.dir, n))
		}
		segs = append(segs, newSegment(s.dir, name, start)) // ReadDir sorts by name: by start
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(segs) == 0 {
		// The directory was made but its first segment never was.
		if err := s.startSegmentLocked(0); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.segs.Store(&segs)
	aw, err := s.recoverActive(segs[len(segs)-1])
	if err != nil {
		return nil, err
	}
	s.mu.active = aw
	s.mu.next = aw.seg.start + SeqNum(len(aw.offsets))
	s.nextSeq.Store(uint64(s.mu.next))
	s.markDurable(s.mu.next)
	return s, nil
}

// recoverActive opens the last segment of a stream for appending, after cutting (or, under
// OnCorruptionError, reporting) whatever follows its last complete commit unit.
func (s *stream) recoverActive(seg *segment) (*segmentWriter, error) {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return nil, ioErr("open segment", seg.path, err)
	}
	aw, err := s.scanActive(seg, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Whatever survived may have been written without an fsync (SyncAsync, or a torn tail's
	// neighbours); make it durable before anything is appended after it.
	if err := syncData(f); err != nil {
		f.Close()
		return nil, ioErr("fsync", seg.path, err)
	}
	return aw, nil
}

func (s *stream) scanActive(seg *segment, f *os.File) (*segmentWriter, error) {
	opts := &s.w.opts
	st, err := f.Stat()
	if err != nil {
		return nil, ioErr("stat", seg.path, err)
	}
	size := st.Size()

	hdr := make([]byte, min(size, seg.hdrLen))
	if _, err := f.ReadAt(hdr, 0); err != nil && err != io.EOF {
		return nil, ioErr("read segment header", seg.path, err)
	}
	if err := checkHeader(hdr, seg); err != nil {
		if opts.OnCorruption == OnCorruptionError {
			return nil, err
		}
		if opts.OnCorruption == OnCorruptionTruncateTornTail {
			// Segments are created atomically, so a bad header is never torn; what matters
			// is whether records that cutting would lose follow it.
			if err := s.checkTornTail(f, seg, size, 0, seg.hdrLen, seg.start, err); err != nil {
				return nil, err
			}
		}
		opts.Logger.Warn("wal: rewriting corrupt segment header; its records are lost",
			"stream", s.name, "path", seg.path, "err", err)
		if err := s.cutTail(f, seg, 0); err != nil {
			return nil, err
		}
		h := appendSegmentHeader(nil, segmentHeader{stream: s.name, start: seg.start})
		if _, err := f.WriteAt(h, 0); err != nil {
			return nil, ioErr("write segment header", seg.path, err)
		}
		return s.newWriter(seg, f, nil, seg.hdrLen, seg.hdrLen), nil
	}

	rr := newRecordReader(nil, f, size, seg.path, seg.hdrLen, seg.start, opts.ReadBufferSize)
	offsets, commitEnd, bad := scanUnits(rr)
	if _, isIO := bad.(*IOError); isIO {
		return nil, bad
	}
	committed := len(offsets)
	if bad == nil {
		return s.newWriter(seg, f, offsets, commitEnd, size), nil
	}
	if opts.OnCorruption == OnCorruptionError {
		return nil, bad
	}
	if opts.OnCorruption == OnCorruptionTruncateTornTail {
		// rr stopped at the first bad record (or at the end of the data, after an incomplete
		// batch): the next record can start no earlier than one header further on.
		if err := s.checkTornTail(f, seg, size, rr.off, rr.off+recordHeaderLen, rr.id+1, bad); err != nil {
			return nil, err
		}
	}
	opts.Logger.Warn("wal: cutting torn or corrupt tail", "stream", s.name, "path", seg.path,
		"keep_bytes", commitEnd, "dropped_bytes", size-commitEnd, "records", committed, "err", bad)
	if err := s.cutTail(f, seg, commitEnd); err != nil {
		return nil, err
	}
	return s.newWriter(seg, f, offsets, commitEnd, commitEnd), nil
}

// checkTornTail returns nil when the damage bad, at offset badOff of the active segment seg
// (size bytes, open as f), is a torn tail: no record from offset from on passes its checksum,
// the first of them having sequence number firstID. Otherwise it returns a
// *MidLogCorruptionError, or an *IOError.
func (s *stream) checkTornTail(f *os.File, seg *segment, size, badOff, from int64, firstID SeqNum, bad error) error {
	res, err := findValidRecord(f, seg.path, size, from, firstID)
	if err != nil {
		return err
	}
	if !res.found && !res.gaveUp {
		return nil
	}
	e := &MidLogCorruptionError{Stream: s.name, Path: seg.path, Offset: badOff, ID: firstID - 1,
		ValidOffset: res.off, ValidID: res.id, Err: bad}
	if badOff == 0 { // the header: records start at seg.start
		e.ID = seg.start
	}
	if res.gaveUp {
		e.ValidOffset, e.ValidID = -1, 0
	}
	return e
}

// cutTail truncates the file of seg to size bytes and makes that durable.
func (s *stream) cutTail(f *os.File, seg *segment, size int64) error {
	if err := f.Truncate(size); err != nil {
		return ioErr("truncate", seg.path, err)
	}
	return ioErr("fsync", seg.path, syncData(f))
}

// scanUnits reads every record from rr and returns the offsets of the records that belong to
// complete commit units, the end of the last complete unit, and the first problem found after
// it: a *CorruptionError or *CRCMismatchError (including a record cut short and a batch
// without its last record), an *IOError, or nil if the data ends cleanly.
func scanUnits(rr *recordReader) (offsets []uint32, commitEnd int64, bad error) {
	committed := 0
	commitEnd = rr.off
	for {
		rec, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = err
			break
		}
		offsets = append(offsets, uint32(rec.off))
		if rec.flags&recordTypeMask == recordTypeFull {
			committed, commitEnd = len(offsets), rr.off
		}
	}
	if bad == nil && committed < len(offsets) {
		bad = &CorruptionError{Path: rr.path, Offset: int64(offsets[committed]), Reason: "incomplete batch"}
	}
	return offsets[:committed], commitEnd, bad
}
