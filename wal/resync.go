package wal

import (
	"encoding/binary"
	"io"
)

// This file tells a torn tail from damage in the middle of the active segment, for
// OnCorruptionTruncateTornTail. A crash mid-append can only leave bad bytes at the end of
// the data: a record cut short, or a last record that never fully reached the disk. When a
// record that passes its checksum (at the sequence number it would have there) follows the
// first bad one, the bad bytes are not a torn tail but damage to records written before
// others, and cutting them would silently drop the valid records after them.

// Bounds of the search for a valid record after the damage.
const (
	// maxResyncIDs bounds how many records the damage may span: a record found further
	// after the first bad one is not recognised. A record is at least recordHeaderLen bytes,
	// so this covers at least 9 MiB of damage; a 4 KiB page of damage spans at most 455.
	maxResyncIDs = 1 << 20
	// resyncWindow is how much of the segment the search reads at a time.
	resyncWindow = 1 << 20
)

// resyncBudget bounds the bytes the search checksums (candidate records whose header looks
// valid) when remaining bytes of the segment follow the damage. Garbage rarely looks like a
// record header, and a real record right after the damage is found at once; the budget only
// matters for a large region of garbage, which a crash cannot produce.
func resyncBudget(remaining int64) int64 { return 32<<20 + 4*remaining }

// crcInverse maps the top byte of each entry of the CRC-32C table to its index. The top
// bytes are all distinct (the table's top byte is a bijection of its index), which lets
// unwindCRC run the CRC backwards.
var crcInverse = func() (inv [256]byte) {
	for i, v := range castagnoli {
		inv[v>>24] = byte(i)
	}
	return inv
}()

// unwindCRC returns the CRC-32C value c such that crc32.Update(c, castagnoli, p) == final:
// it runs the table-driven update backwards over p.
func unwindCRC(final uint32, p []byte) uint32 {
	r := ^final
	for j := len(p) - 1; j >= 0; j-- {
		i := crcInverse[r>>24]
		r = (r^castagnoli[i])<<8 | uint32(i^p[j])
	}
	return ^r
}

// seqCRCIndex finds which of the sequence numbers first, first+1, ... has a given seqCRC,
// extending its table as far as asked.
type seqCRCIndex struct {
	first SeqNum
	n     uint32            // sequence numbers first .. first+n-1 are in byCRC
	byCRC map[uint32]uint32 // seqCRC(first+d) -> the smallest such d
}

// lookup returns the smallest d < limit with seqCRC(first+d) == crc.
func (x *seqCRCIndex) lookup(crc uint32, limit uint32) (uint32, bool) {
	for ; x.n < limit; x.n++ {
		c := seqCRC(x.first + SeqNum(x.n))
		if _, dup := x.byCRC[c]; !dup {
			x.byCRC[c] = x.n
		}
	}
	d, ok := x.byCRC[crc]
	return d, ok && d < limit
}

// resyncResult is what findValidRecord found.
type resyncResult struct {
	found    bool   // a valid record follows the damage
	gaveUp   bool   // the search ran out of budget without finding one
	off      int64  // the record's offset, when found
	id       SeqNum // its sequence number, when found
	examined int64  // bytes checksummed
}

// findValidRecord searches the segment data src[from:size) for a record that passes its
// checksum, where the first record that can start at or after from has sequence number
// firstID (so a record at offset o has a sequence number from firstID to
// firstID + (o-from)/recordHeaderLen). To rule out a chance match, the record must also be
// followed by the end of the data (the end of the file or a zero-filled tail) or by another
// valid record. Records are searched in file order and the first one found is returned. An
// error is an *IOError.
func findValidRecord(src io.ReaderAt, path string, size, from int64, firstID SeqNum) (resyncResult, error) {
	var res resyncResult
	if from < 0 || from+recordHeaderLen > size {
		return res, nil
	}
	budget := resyncBudget(size - from)
	idx := &seqCRCIndex{first: firstID, byCRC: make(map[uint32]uint32)}
	buf := make([]byte, min(int64(resyncWindow), size-from))
	var scratch []byte
	readAt := func(dst []byte, off int64) error {
		if m, err := src.ReadAt(dst, off); m < len(dst) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return ioErr("read segment", path, err)
		}
		return nil
	}
	// The window win holds src[ws:ws+len(win)); offsets ws .. ws+len(win)-recordHeaderLen,
	// whose headers it holds whole, are examined before it moves on.
	for ws := from; ws+recordHeaderLen <= size; {
		win := buf[:min(int64(len(buf)), size-ws)]
		if err := readAt(win, ws); err != nil {
			return res, err
		}
		// bytesAt returns src[off:end), from the window when it holds them.
		bytesAt := func(off, end int64) ([]byte, error) {
			if off >= ws && end <= ws+int64(len(win)) {
				return win[off-ws : end-ws], nil
			}
			if int64(cap(scratch)) < end-off {
				scratch = make([]byte, end-off)
			}
			scratch = scratch[:end-off]
			return scratch, readAt(scratch, off)
		}
		last := len(win) - recordHeaderLen
		for i := 0; i <= last; i++ {
			if fl := win[i+8]; fl&recordFlagsReserved != 0 ||
				(fl&recordTypeMask != recordTypeFull && fl&recordTypeMask != recordTypeBatchMore) {
				continue // the common case: not a record header
			}
			o := ws + int64(i)
			end, ok := plausibleRecord(win[i:], o, size)
			if !ok {
				continue
			}
			if res.examined += end - o; res.examined > budget {
				res.gaveUp = true
				return res, nil
			}
			b, err := bytesAt(o, end)
			if err != nil {
				return res, err
			}
			want := unwindCRC(binary.LittleEndian.Uint32(b), b[4:])
			limit := uint32(min((o-from)/recordHeaderLen+1, maxResyncIDs))
			d, ok := idx.lookup(want, limit)
			if !ok {
				continue
			}
			id := firstID + SeqNum(d)
			// The record checks out; now the one after it, or the end of the data.
			confirmed := end == size
			if !confirmed && end+recordHeaderLen <= size {
				nh, err := bytesAt(end, end+recordHeaderLen)
				if err != nil {
					return res, err
				}
				if allZero(nh) {
					confirmed = true
				} else if nend, ok := plausibleRecord(nh, end, size); ok {
					nb, err := bytesAt(end, nend)
					if err != nil {
						return res, err
					}
					_, _, _, perr := parseRecord(nb, id+1, end, path)
					confirmed = perr == nil
				}
			}
			if confirmed {
				res.found, res.off, res.id = true, o, id
				return res, nil
			}
		}
		ws += int64(last + 1)
	}
	return res, nil
}

// plausibleRecord reports whether h (at least recordHeaderLen bytes, at offset off) is the
// header of a record that fits in the segment's size bytes, and returns the record's end.
func plausibleRecord(h []byte, off, size int64) (int64, bool) {
	flags := h[8]
	if t := flags & recordTypeMask; (t != recordTypeFull && t != recordTypeBatchMore) || flags&recordFlagsReserved != 0 {
		return 0, false
	}
	length := int64(binary.LittleEndian.Uint32(h[4:]))
	if length > maxStoredPayload || off+recordHeaderLen+length > size {
		return 0, false
	}
	return off + recordHeaderLen + length, true
}
