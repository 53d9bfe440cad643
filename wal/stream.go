package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// maxUnitBytes bounds the encoded size of one commit unit, so that record offsets within a
// segment fit in 32 bits (a unit starts below MaxSegmentSize ≤ 1 GiB), and sizes fit in an
// int on 32-bit platforms.
const maxUnitBytes int64 = 1<<31 - 1

// stream is one named sequence of entries: a directory of segments, the last of which is
// active. Writers serialize on mu; readers of sealed segments need no lock.
type stream struct {
	w    *WAL
	name string
	dir  string

	nextSeq    atomic.Uint64              // mirrors mu.next for lock-free reads
	durableSeq atomic.Uint64              // every record below it is fsynced
	segs       atomic.Pointer[[]*segment] // immutable snapshot; the last is the active segment

	// pendingUnits counts commit units written since the last group-commit flush whose
	// writers wait for durability (changed under mu).
	pendingUnits atomic.Int64

	commit committer // group commit (commit.go)

	truncMu sync.Mutex // serializes truncateBefore

	mu struct {
		sync.Mutex
		next   SeqNum         // sequence number of the next record
		active *segmentWriter // the segment being written
		buf    []byte         // encoded records of the active segment not yet in the file
		err    error          // sticky: a failed write or fsync, or ErrClosed
		enc    encoder
	}
}

func newStream(w *WAL, name string) *stream {
	s := &stream{w: w, name: name, dir: filepath.Join(w.opts.RootPath, name)}
	s.commit.gathered = make(chan struct{}, 1)
	s.mu.enc = encoder{compression: w.opts.Compression, minCompress: w.opts.MinCompressionSize}
	return s
}

// createStream makes the directory and first segment of a new stream.
func createStream(w *WAL, name string) (*stream, error) {
	s := newStream(w, name)
	if err := os.Mkdir(s.dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, ioErr("create stream directory", s.dir, err)
	}
	if err := syncDir(w.opts.RootPath); err != nil {
		return nil, err
	}
	if err := s.startSegmentLocked(0); err != nil {
		return nil, err
	}
	return s, nil
}

// newWriter wraps the open file of seg as the active segment, holding count records whose
// offsets are given, with size bytes of data and alloc bytes of file.
func (s *stream) newWriter(seg *segment, f *os.File, offsets []uint32, size, alloc int64) *segmentWriter {
	if offsets == nil {
		offsets = make([]uint32, 0, min(s.w.opts.MaxEntriesPerSegment, 1024))
	}
	sw := &segmentWriter{seg: seg, f: f, size: size, alloc: alloc, offsets: offsets}
	if s.w.opts.SyncMode != SyncAsync {
		// Only worth it when appends are fsynced: see maxPreallocChunk.
		sw.chunk = min(maxPreallocChunk, s.w.opts.MaxSegmentSize)
	}
	return sw
}

// startSegmentLocked creates a segment starting at start, makes it active and publishes it.
func (s *stream) startSegmentLocked(start SeqNum) error {
	seg := newSegment(s.dir, s.name, start)
	f, err := createSegmentFile(seg)
	if err != nil {
		return err
	}
	s.mu.active = s.newWriter(seg, f, nil, seg.hdrLen, seg.hdrLen)
	var segs []*segment
	if old := s.segs.Load(); old != nil {
		segs = slices.Clone(*old)
	}
	segs = append(segs, seg)
	s.segs.Store(&segs)
	return nil
}

// failLocked poisons the stream: after a failed write or fsync the state of the file is
// unknown, so every later write fails with the same error until the WAL is reopened.
func (s *stream) failLocked(err error) error {
	if s.mu.err == nil {
		s.mu.err = err
	}
	return err
}

// write appends entries as one commit unit (atomic after a crash) and returns the sequence
// numbers assigned. The records are in the write buffer or the file when it returns; making
// them durable is up to the caller, who says whether it will call waitDurable (which lets
// group commit know how many appenders to expect).
func (s *stream) write(entries [][]byte, waits bool) (Range, error) {
	est := int64(0)
	for _, e := range entries {
		if len(e) > MaxEntrySize {
			return Range{}, fmt.Errorf("%w: %d bytes (max %d)", ErrEntryTooLarge, len(e), MaxEntrySize)
		}
		est += int64(recordHeaderLen + len(e))
	}
	if est > maxUnitBytes {
		return Range{}, fmt.Errorf("%w: batch of %d bytes (max %d)", ErrEntryTooLarge, est, maxUnitBytes)
	}
	opts := &s.w.opts

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.err != nil {
		return Range{}, s.mu.err
	}
	aw := s.mu.active
	if n := int64(len(aw.offsets)); n > 0 &&
		(n+int64(len(entries)) > opts.MaxEntriesPerSegment || aw.size+int64(len(s.mu.buf))+est > opts.MaxSegmentSize) {
		if err := s.rotateLocked(); err != nil {
			return Range{}, err
		}
		aw = s.mu.active
	}
	start := s.mu.next
	buf := s.mu.buf
	if need := len(buf) + int(est); cap(buf) < need {
		// Size the buffer once for a large batch instead of growing it record by record.
		nb := make([]byte, len(buf), max(need, 2*cap(buf), s.w.opts.WriteBufferSize))
		copy(nb, buf)
		buf = nb
	}
	last := len(entries) - 1
	for i, e := range entries {
		typ := byte(recordTypeFull)
		if i < last {
			typ = recordTypeBatchMore
		}
		aw.offsets = append(aw.offsets, uint32(aw.size+int64(len(buf))))
		buf = s.mu.enc.appendRecord(buf, start+SeqNum(i), typ, e)
	}
	s.mu.buf = buf
	s.mu.next = start + SeqNum(len(entries))
	s.nextSeq.Store(uint64(s.mu.next))
	if waits {
		s.commit.arrived(s.pendingUnits.Add(1))
	}
	s.w.metrics.appends.Add(1)
	s.w.metrics.entries.Add(uint64(len(entries)))
	if len(buf) >= opts.WriteBufferSize {
		if err := s.flushLocked(); err != nil {
			return Range{}, err
		}
	}
	return Range{Start: start, End: s.mu.next}, nil
}

// flushLocked writes the buffered records to the active segment's file.
func (s *stream) flushLocked() error {
	buf := s.mu.buf
	if len(buf) == 0 {
		return nil
	}
	aw := s.mu.active
	end := aw.size + int64(len(buf))
	if _, err := aw.f.WriteAt(buf, aw.size); err != nil {
		return s.failLocked(ioErr("write", aw.seg.path, err))
	}
	aw.size = end
	if err := aw.extend(end, len(buf)); err != nil {
		return s.failLocked(err)
	}
	s.w.metrics.bytes.Add(uint64(len(buf)))
	if cap(buf) > 4*s.w.opts.WriteBufferSize {
		s.mu.buf = nil // do not keep a huge batch's buffer around
	} else {
		s.mu.buf = buf[:0]
	}
	return nil
}

// rotateLocked seals the active segment (flush, trim, fsync) and starts a new one at the next
// sequence number. Sealing makes every record so far durable, whatever the SyncMode.
func (s *stream) rotateLocked() error {
	aw := s.mu.active
	if err := s.flushLocked(); err != nil {
		return err
	}
	if err := aw.trim(); err != nil {
		return s.failLocked(err)
	}
	if err := syncData(aw.f); err != nil {
		return s.failLocked(ioErr("fsync", aw.seg.path, err))
	}
	s.w.metrics.syncs.Add(1)
	s.markDurable(s.mu.next)
	if err := s.startSegmentLocked(s.mu.next); err != nil {
		return s.failLocked(err)
	}
	if err := aw.retireLocked(); err != nil {
		s.w.opts.Logger.Warn("wal: closing sealed segment", "path", aw.seg.path, "err", err)
	}
	s.w.handles.evict(aw.seg) // reopen it as sealed (and mapped) on the next read
	s.w.metrics.rotations.Add(1)
	return nil
}

// markDurable records that every record below end is on stable storage.
func (s *stream) markDurable(end SeqNum) {
	for {
		cur := s.durableSeq.Load()
		if cur >= uint64(end) || s.durableSeq.CompareAndSwap(cur, uint64(end)) {
			return
		}
	}
}

// segments returns the current snapshot of the segment list.
func (s *stream) segments() []*segment { return *s.segs.Load() }

// findSegment returns the index in segs of the segment holding id, or -1 if id precedes the
// first segment.
func findSegment(segs []*segment, id SeqNum) int {
	return sort.Search(len(segs), func(i int) bool { return segs[i].start > id }) - 1
}

// truncateBefore deletes every sealed segment whose records all precede safe, and returns how
// many it deleted. The active segment is never deleted.
func (s *stream) truncateBefore(safe SeqNum) (int, error) {
	s.truncMu.Lock()
	defer s.truncMu.Unlock()
	s.mu.Lock()
	if s.mu.err == ErrClosed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	segs := s.segments()
	k := 0
	for k < len(segs)-1 && segs[k+1].start <= safe {
		k++
	}
	if k > 0 {
		rest := slices.Clone(segs[k:])
		s.segs.Store(&rest)
	}
	s.mu.Unlock()
	// Delete oldest first, so that a crash part way leaves a contiguous suffix.
	for i, seg := range segs[:k] {
		s.w.handles.evict(seg)
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return i, ioErr("remove segment", seg.path, err)
		}
	}
	if k > 0 {
		if err := syncDir(s.dir); err != nil {
			return k, err
		}
	}
	return k, nil
}

// close flushes, trims and fsyncs the active segment and closes it. Later writes fail with
// ErrClosed.
func (s *stream) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.err == ErrClosed {
		return nil
	}
	aw := s.mu.active
	var err error
	if s.mu.err == nil {
		err = s.flushLocked()
		if err == nil {
			err = aw.trim()
		}
		if err == nil {
			err = ioErr("fsync", aw.seg.path, syncData(aw.f))
			s.w.metrics.syncs.Add(1)
		}
		if err == nil {
			s.markDurable(s.mu.next)
		}
	}
	if cerr := aw.retireLocked(); err == nil {
		err = cerr
	}
	s.mu.err = ErrClosed
	return err
}
