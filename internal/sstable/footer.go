package sstable

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// crcTable is the CRC-32C (Castagnoli) table used for every checksum of the format. Frozen.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// blockHandle locates a block: its offset in the file and the length of its payload (without
// the 5-byte trailer).
type blockHandle struct {
	offset, length uint64
}

// end returns the offset just past the block's trailer.
func (h blockHandle) end() uint64 { return h.offset + h.length + blockTrailerLen }

// appendHandle appends the uvarint encoding of h (used as index values).
func appendHandle(dst []byte, h blockHandle) []byte {
	dst = binary.AppendUvarint(dst, h.offset)
	return binary.AppendUvarint(dst, h.length)
}

// decodeHandle decodes a handle that must fill b exactly.
func decodeHandle(b []byte) (blockHandle, bool) {
	off, n := binary.Uvarint(b)
	if n <= 0 {
		return blockHandle{}, false
	}
	l, m := binary.Uvarint(b[n:])
	if m <= 0 || n+m != len(b) {
		return blockHandle{}, false
	}
	return blockHandle{offset: off, length: l}, true
}

// footer is the decoded fixed-size end of the file (see format.go).
type footer struct {
	filter, index, props blockHandle
	version              uint32
}

// encode returns the 64 footer bytes.
func (f *footer) encode() []byte {
	b := make([]byte, footerLen)
	le := binary.LittleEndian
	le.PutUint64(b[0:], f.filter.offset)
	le.PutUint64(b[8:], f.filter.length)
	le.PutUint64(b[16:], f.index.offset)
	le.PutUint64(b[24:], f.index.length)
	le.PutUint64(b[32:], f.props.offset)
	le.PutUint64(b[40:], f.props.length)
	le.PutUint32(b[48:], f.version)
	le.PutUint32(b[footerCRCOffset:], crc32.Checksum(b[:footerCRCOffset], crcTable))
	copy(b[56:], footerMagic)
	return b
}

// decodeFooter parses the last footerLen bytes of a file of the given size and checks that
// the handles it holds tile the end of the file. Errors are corruption errors.
func decodeFooter(b []byte, size int64, object string) (footer, error) {
	off := size - footerLen
	if len(b) != footerLen {
		return footer{}, corruptf(object, off, "footer of %d bytes", len(b))
	}
	if string(b[56:]) != footerMagic {
		return footer{}, corruptf(object, off+56, "bad magic %q: not an isledb SST", b[56:])
	}
	le := binary.LittleEndian
	if got, want := crc32.Checksum(b[:footerCRCOffset], crcTable), le.Uint32(b[footerCRCOffset:]); got != want {
		return footer{}, corruptf(object, off, "footer checksum mismatch (stored %#08x, computed %#08x)", want, got)
	}
	f := footer{
		filter:  blockHandle{le.Uint64(b[0:]), le.Uint64(b[8:])},
		index:   blockHandle{le.Uint64(b[16:]), le.Uint64(b[24:])},
		props:   blockHandle{le.Uint64(b[32:]), le.Uint64(b[40:])},
		version: le.Uint32(b[48:]),
	}
	if f.version != FormatVersion {
		return footer{}, corruptWrap(object, off+48, "footer", fmt.Errorf("%w %d", ErrUnsupportedVersion, f.version))
	}
	// The meta blocks must lie back to back, ending at the footer. Bounding every field by
	// the file size first keeps the sums below from overflowing.
	limit := uint64(off)
	for _, h := range []blockHandle{f.filter, f.index, f.props} {
		if h.offset > limit || h.length > limit {
			return footer{}, corruptf(object, off, "footer handle (%d, %d) beyond file of %d bytes", h.offset, h.length, size)
		}
	}
	if f.props.end() != limit || f.index.end() != f.props.offset {
		return footer{}, corruptf(object, off, "index (%d, %d) and properties (%d, %d) do not end at the footer", f.index.offset, f.index.length, f.props.offset, f.props.length)
	}
	if f.filter.length == 0 {
		if f.filter.offset != 0 {
			return footer{}, corruptf(object, off, "empty filter handle with offset %d", f.filter.offset)
		}
	} else if f.filter.end() != f.index.offset {
		return footer{}, corruptf(object, off, "filter (%d, %d) does not end at the index", f.filter.offset, f.filter.length)
	}
	return f, nil
}

// metaStart returns the offset of the first meta block: the end of the data blocks.
func (f *footer) metaStart() uint64 {
	if f.filter.length > 0 {
		return f.filter.offset
	}
	return f.index.offset
}
