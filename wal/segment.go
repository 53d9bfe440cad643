package wal

import (
	"os"
	"path/filepath"
)

// segment is one segment file of a stream. Its fields never change once it is published.
type segment struct {
	stream string
	start  SeqNum // sequence number of its first record
	path   string
	hdrLen int64 // length of its header
}

func newSegment(dir, stream string, start SeqNum) *segment {
	return &segment{
		stream: stream,
		start:  start,
		path:   filepath.Join(dir, segmentFileName(start)),
		hdrLen: headerLen(stream),
	}
}

// createSegmentFile creates seg's file atomically: the header is written to a temporary
// file, which is fsynced and renamed into place, and the directory is fsynced. It returns the
// file open for writing.
func createSegmentFile(seg *segment) (*os.File, error) {
	tmp := seg.path + tempSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, ioErr("create segment", tmp, err)
	}
	fail := func(op string, err error) (*os.File, error) {
		f.Close()
		os.Remove(tmp)
		return nil, ioErr(op, tmp, err)
	}
	hdr := appendSegmentHeader(nil, segmentHeader{stream: seg.stream, start: seg.start})
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return fail("write segment header", err)
	}
	if err := syncData(f); err != nil {
		return fail("fsync", err)
	}
	if err := os.Rename(tmp, seg.path); err != nil {
		return fail("rename", err)
	}
	if err := syncDir(filepath.Dir(seg.path)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// segmentWriter is the open, active segment of a stream: the only one that grows. All fields
// are guarded by the stream's mu.
type segmentWriter struct {
	seg     *segment
	f       *os.File
	size    int64    // bytes of records written to the file (its logical end)
	alloc   int64    // end of the zero-filled space; the file's size is max(size, alloc)
	offsets []uint32 // file offset of every record, written or still buffered

	chunk int64 // zero-fill step; 0 disables preallocation

	pins    int  // in-flight fsyncs using f outside the lock
	retired bool // f is to be closed when pins drops to zero
}

// maxPreallocChunk bounds how far past its data an active segment is zero-filled. Overwriting
// blocks that were already written lets fdatasync flush just the data, with no block
// allocation or size change to journal; on ext4 that makes a small synced append several times
// cheaper than appending to the end of the file (or into fallocated, unwritten space).
const maxPreallocChunk = 1 << 20

// zeros is the source of zero-fill writes. Never modified.
var zeros = make([]byte, 256<<10)

// extend zero-fills the file past end, the new end of its data, when a write of n bytes has
// reached the end of the space filled so far. The zeros are made durable by the next fsync,
// together with the data. Large writes skip it: their fsync is dominated by the data itself,
// and filling ahead of them would double the bytes written.
func (sw *segmentWriter) extend(end int64, n int) error {
	if sw.chunk == 0 || end <= sw.alloc || int64(n) > sw.chunk/4 {
		return nil
	}
	to := end + sw.chunk
	for off := end; off < to; {
		k := min(to-off, int64(len(zeros)))
		if _, err := sw.f.WriteAt(zeros[:k], off); err != nil {
			return ioErr("zero-fill", sw.seg.path, err)
		}
		off += k
	}
	sw.alloc = to
	return nil
}

// trim cuts preallocated space past the data, so the file ends at its last record.
func (sw *segmentWriter) trim() error {
	if sw.alloc <= sw.size {
		return nil
	}
	if err := sw.f.Truncate(sw.size); err != nil {
		return ioErr("truncate", sw.seg.path, err)
	}
	sw.alloc = sw.size
	return nil
}

// retireLocked closes the file now, or marks it to be closed by the last in-flight fsync.
func (sw *segmentWriter) retireLocked() error {
	sw.retired = true
	if sw.pins == 0 {
		return ioErr("close", sw.seg.path, sw.f.Close())
	}
	return nil
}
