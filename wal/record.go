package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/pierrec/lz4/v4"
)

// recordCRC returns the CRC-32C of a record with sequence number id, whose bytes after the
// CRC field are rest.
func recordCRC(id SeqNum, rest []byte) uint32 {
	return crc32.Update(seqCRC(id), castagnoli, rest)
}

// seqCRC returns the CRC-32C of id as 8 little-endian bytes. It uses slicing-by-8 tables in
// plain Go: crc32.Update on a local array would allocate once per record.
func seqCRC(id SeqNum) uint32 {
	t := &seqCRCTables
	lo := ^uint32(0) ^ uint32(id)
	hi := uint32(id >> 32)
	return ^(t[0][hi>>24] ^ t[1][hi>>16&0xff] ^ t[2][hi>>8&0xff] ^ t[3][hi&0xff] ^
		t[4][lo>>24] ^ t[5][lo>>16&0xff] ^ t[6][lo>>8&0xff] ^ t[7][lo&0xff])
}

// seqCRCTables are the slicing-by-8 tables of CRC-32C.
var seqCRCTables = func() (t [8][256]uint32) {
	t[0] = *castagnoli
	for i := 0; i < 256; i++ {
		for k := 1; k < 8; k++ {
			prev := t[k-1][i]
			t[k][i] = prev>>8 ^ t[0][prev&0xff]
		}
	}
	return t
}()

// encoder turns entries into records. It is not safe for concurrent use; each stream owns one
// under its write lock.
type encoder struct {
	compression Compression
	minCompress int
	lz          lz4.Compressor
}

// appendRecord appends the record for entry, with sequence number id and record type typ
// (recordTypeFull or recordTypeBatchMore), to dst.
func (e *encoder) appendRecord(dst []byte, id SeqNum, typ byte, entry []byte) []byte {
	start := len(dst)
	if e.compression == CompressionLZ4 && len(entry) >= e.minCompress && len(entry) > 0 {
		bound := lz4.CompressBlockBound(len(entry))
		dst = grow(dst, recordHeaderLen+lz4LenPrefix+bound)
		body := dst[start+recordHeaderLen+lz4LenPrefix : start+recordHeaderLen+lz4LenPrefix+bound]
		n, err := e.lz.CompressBlock(entry, body)
		if err == nil && n > 0 && n+lz4LenPrefix < len(entry) {
			rec := dst[start : start+recordHeaderLen+lz4LenPrefix+n]
			binary.LittleEndian.PutUint32(rec[recordHeaderLen:], uint32(len(entry)))
			finishRecord(rec, id, typ|recordFlagLZ4)
			return dst[:start+len(rec)]
		}
		dst = dst[:start]
	}
	dst = grow(dst, recordHeaderLen+len(entry))
	rec := dst[start : start+recordHeaderLen+len(entry)]
	copy(rec[recordHeaderLen:], entry)
	finishRecord(rec, id, typ)
	return dst[:start+len(rec)]
}

// finishRecord fills in the header of rec, whose payload is already in place.
func finishRecord(rec []byte, id SeqNum, flags byte) {
	binary.LittleEndian.PutUint32(rec[4:], uint32(len(rec)-recordHeaderLen))
	rec[8] = flags
	binary.LittleEndian.PutUint32(rec[0:], recordCRC(id, rec[4:]))
}

// grow returns b with room for at least n more bytes past len(b); the extra bytes are
// available as b[len(b):len(b)+n] and len(b) is unchanged.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// errShortRecord is returned by parseRecord when b ends before the record does.
type errShortRecord struct{ need int }

// Error describes the failure.
func (e errShortRecord) Error() string { return fmt.Sprintf("short record: need %d bytes", e.need) }

// parseRecord decodes the record at the start of b, whose sequence number is id and whose file
// offset is off. It returns the record's flags, its stored payload (aliasing b) and its total
// length. When b is too short it returns errShortRecord with the length needed; bad bytes give
// a *CorruptionError or *CRCMismatchError.
func parseRecord(b []byte, id SeqNum, off int64, path string) (flags byte, payload []byte, n int, err error) {
	if len(b) < recordHeaderLen {
		return 0, nil, 0, errShortRecord{need: recordHeaderLen}
	}
	length := binary.LittleEndian.Uint32(b[4:])
	flags = b[8]
	if t := flags & recordTypeMask; t != recordTypeFull && t != recordTypeBatchMore {
		return 0, nil, 0, &CorruptionError{Path: path, Offset: off, Reason: fmt.Sprintf("invalid record type %d", t)}
	}
	if flags&recordFlagsReserved != 0 {
		return 0, nil, 0, &CorruptionError{Path: path, Offset: off, Reason: fmt.Sprintf("reserved record flags set %#x", flags)}
	}
	if length > maxStoredPayload {
		return 0, nil, 0, &CorruptionError{Path: path, Offset: off, Reason: fmt.Sprintf("record length %d too large", length)}
	}
	n = recordHeaderLen + int(length)
	if len(b) < n {
		return 0, nil, 0, errShortRecord{need: n}
	}
	want := binary.LittleEndian.Uint32(b)
	if got := recordCRC(id, b[4:n]); got != want {
		return 0, nil, 0, &CRCMismatchError{Path: path, Offset: off, Expected: want, Actual: got}
	}
	return flags, b[recordHeaderLen:n], n, nil
}

// decodePayload returns the entry held by a stored payload. An uncompressed payload is
// returned as it is (aliasing payload) unless copyOut is set, in which case it is copied into
// dst's storage; a compressed one is always decompressed into dst's storage.
func decodePayload(dst []byte, flags byte, payload []byte, copyOut bool, off int64, path string) ([]byte, error) {
	if flags&recordFlagLZ4 == 0 {
		if !copyOut {
			return payload, nil
		}
		return append(dst[:0], payload...), nil
	}
	if len(payload) < lz4LenPrefix {
		return nil, &CorruptionError{Path: path, Offset: off, Reason: "compressed payload too short"}
	}
	raw := binary.LittleEndian.Uint32(payload)
	block := payload[lz4LenPrefix:]
	// The encoder never compresses an empty entry, and an LZ4 block expands at most about
	// 255 times. (The LZ4 decoder must not see an empty destination.)
	if raw == 0 || len(block) == 0 || raw > MaxEntrySize || uint64(raw) > 255*uint64(len(block))+16 {
		return nil, &CorruptionError{Path: path, Offset: off, Reason: fmt.Sprintf("bad uncompressed length %d", raw)}
	}
	if cap(dst) < int(raw) {
		dst = make([]byte, raw)
	}
	dst = dst[:raw]
	n, err := lz4.UncompressBlock(block, dst)
	if err != nil || n != int(raw) {
		reason := fmt.Sprintf("lz4 block decodes to %d bytes, want %d", n, raw)
		if err != nil {
			reason = "lz4: " + err.Error()
		}
		return nil, &CorruptionError{Path: path, Offset: off, Reason: reason}
	}
	return dst, nil
}

// rawRecord is one record as read from a segment, before decompression.
type rawRecord struct {
	id      SeqNum
	off     int64
	flags   byte
	payload []byte // stored form; aliases the reader's buffer or mapping
}

// recordReader reads the records of one segment in order, either from an in-memory image
// (a mapping, or test bytes) or through a buffer from an io.ReaderAt.
type recordReader struct {
	data []byte      // the whole segment, when in memory
	src  io.ReaderAt // otherwise, the segment file
	size int64       // bytes of the segment that may be read
	path string

	buf      []byte // read buffer (src mode)
	bufStart int64  // file offset of buf[0]
	bufLen   int    // valid bytes in buf

	off int64  // offset of the next record
	id  SeqNum // sequence number of the next record

	// zeroTail is set when the reader stopped at a zero-filled (preallocated) tail.
	zeroTail bool
}

// newRecordReader returns a reader of the records from offset off, whose first record has
// sequence number id. bufSize is the read buffer size when reading from src.
func newRecordReader(data []byte, src io.ReaderAt, size int64, path string, off int64, id SeqNum, bufSize int) *recordReader {
	r := &recordReader{data: data, src: src, size: size, path: path, off: off, id: id}
	if data == nil {
		r.buf = make([]byte, bufSize)
	}
	return r
}

// reset repositions r, keeping its buffer.
func (r *recordReader) reset(data []byte, src io.ReaderAt, size int64, path string, off int64, id SeqNum) {
	r.data, r.src, r.size, r.path, r.off, r.id = data, src, size, path, off, id
	r.bufStart, r.bufLen, r.zeroTail = 0, 0, false
}

// window returns the bytes from r.off on that are available without reading, after making
// at least min(need, size-off) of them available.
func (r *recordReader) window(need int) ([]byte, error) {
	if r.data != nil {
		return r.data[r.off:r.size], nil
	}
	avail := r.size - r.off
	if int64(need) > avail {
		need = int(avail)
	}
	rel := r.off - r.bufStart
	if rel >= 0 && rel+int64(need) <= int64(r.bufLen) {
		return r.buf[rel:r.bufLen], nil
	}
	// Refill from r.off, keeping nothing: records are consumed in order.
	if need > len(r.buf) {
		r.buf = make([]byte, need)
	}
	want := len(r.buf)
	if int64(want) > avail {
		want = int(avail)
	}
	n, err := r.src.ReadAt(r.buf[:want], r.off)
	if n < want {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ioErr("read segment", r.path, err)
	}
	r.bufStart, r.bufLen = r.off, n
	return r.buf[:n], nil
}

// next returns the next record. It returns io.EOF at the end of the data (the end of the
// file, or the start of a zero-filled tail), a *CorruptionError or *CRCMismatchError for bad
// bytes (a record cut short by the end of the file is "truncated record"), or an *IOError.
func (r *recordReader) next() (rawRecord, error) {
	if r.off >= r.size {
		return rawRecord{}, io.EOF
	}
	need := recordHeaderLen
	for {
		w, err := r.window(need)
		if err != nil {
			return rawRecord{}, err
		}
		if allZero(w[:min(len(w), recordHeaderLen)]) {
			return r.zeroTailEOF()
		}
		flags, payload, n, err := parseRecord(w, r.id, r.off, r.path)
		if short, ok := err.(errShortRecord); ok {
			if int64(short.need) > r.size-r.off {
				return rawRecord{}, &CorruptionError{Path: r.path, Offset: r.off, Reason: "truncated record"}
			}
			need = short.need
			continue
		}
		if err != nil {
			return rawRecord{}, err
		}
		rec := rawRecord{id: r.id, off: r.off, flags: flags, payload: payload}
		r.off += int64(n)
		r.id++
		return rec, nil
	}
}

// zeroTailEOF checks that every byte from r.off to the end is zero, and then reports io.EOF.
func (r *recordReader) zeroTailEOF() (rawRecord, error) {
	start := r.off
	for off := r.off; off < r.size; {
		r.off = off
		w, err := r.window(int(min(r.size-off, 64<<10)))
		if err != nil {
			r.off = start
			return rawRecord{}, err
		}
		if !allZero(w) {
			r.off = start
			return rawRecord{}, &CorruptionError{Path: r.path, Offset: start, Reason: "non-zero bytes after end-of-data marker"}
		}
		off += int64(len(w))
	}
	r.off = start
	r.size = start
	r.zeroTail = true
	return rawRecord{}, io.EOF
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
