package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// On-disk format, version 1. Everything below is frozen: changing any of it requires a new
// format version. docs/format.md ("WAL segments and checkpoints") describes the same bytes with examples.
//
// Layout. RootPath holds one directory per stream, named exactly like the stream. Each stream
// directory holds segment files named by the sequence number of their first entry, as 20
// decimal digits, plus the suffix ".wal" (for example 00000000000000000042.wal), so a lexical
// listing is a numeric one. A segment is created as "<name>.tmp", fsynced, and renamed, so a
// visible segment always has a complete header. Names starting with "." are reserved for the
// WAL's own files (the lock file ".lock"; the Sharded WAL's ".shards" and ".checkpoints").
//
// Segment file:
//
//	+----------------+----------+----------+-----------+
//	| segment header | record 0 | record 1 | ...       |
//	+----------------+----------+----------+-----------+
//
// Segment header (26 + N bytes, integers little-endian):
//
//	 0               8        10       12              20       22         22+N      26+N
//	+---------------+--------+--------+---------------+--------+----------+---------+
//	| magic         | version| flags  | start seq     | name   | stream   | CRC-32C |
//	| "ISLEWAL\x00" | u16 = 1| u16 = 0| u64           | len u16| name (N) | u32     |
//	+---------------+--------+--------+---------------+--------+----------+---------+
//
// The CRC-32C (Castagnoli) covers bytes [0, 22+N). The start sequence number must equal the
// one in the file name, and the stream name the directory's name.
//
// Record (9-byte header, then the payload):
//
//	 0         4         8        9
//	+---------+---------+--------+----------------------+
//	| CRC-32C | length  | flags  | payload (length B)   |
//	| u32     | u32     | u8     |                      |
//	+---------+---------+--------+----------------------+
//
// The CRC-32C is computed over the record's sequence number as a little-endian u64 followed by
// bytes [4, 9+length) of the record, so a record copied to the wrong place fails its check.
// The sequence number itself is not stored: it is the segment's start sequence number plus the
// record's index in the segment.
//
// Flags:
//
//	bits 0-1  type: 1 = full (the last, or only, record of a commit unit);
//	                2 = batch-more (more records of the same atomic batch follow);
//	                0 and 3 are invalid.
//	bit  2    the payload is LZ4-compressed: a u32 uncompressed length, then one LZ4 block.
//	bits 3-7  reserved, zero.
//
// A commit unit is one Append (one full record) or one batch (batch-more records ended by a
// full record). A unit never spans segments. Recovery keeps only complete units: records after
// the last full record of the active segment belong to a batch that was never acknowledged.
//
// The active segment may be preallocated: its file can end in zero bytes past the last record.
// A record header whose 9 bytes are all zero marks the end of the data, and every byte after
// it must be zero too. Sealed segments are trimmed to their data and fsynced before the next
// segment is created.
const (
	segmentMagic          = "ISLEWAL\x00"
	formatVersion         = uint16(1)
	segmentHeaderFixedLen = 26
	recordHeaderLen       = 9

	recordTypeMask      = 0x03
	recordTypeFull      = 0x01
	recordTypeBatchMore = 0x02
	recordFlagLZ4       = 0x04
	recordFlagsReserved = 0xF8

	// lz4LenPrefix is the size of the uncompressed-length prefix of a compressed payload.
	lz4LenPrefix = 4

	segmentSuffix = ".wal"
	tempSuffix    = ".tmp"
	seqDigits     = 20
)

// MaxEntrySize is the largest entry, in bytes, that the WAL accepts. Frozen: readers treat a
// longer record as corruption.
const MaxEntrySize = 1 << 30

// MaxStreamNameLen is the longest stream name, in bytes: a stream is a directory, and common
// file systems limit a name to 255 bytes.
const MaxStreamNameLen = 255

// maxStoredPayload bounds a record's stored payload: an incompressible MaxEntrySize entry
// stored raw, or the LZ4 worst case plus its length prefix.
const maxStoredPayload = MaxEntrySize + MaxEntrySize/255 + 16 + lz4LenPrefix

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentHeader is the decoded header of a segment file.
type segmentHeader struct {
	stream string
	start  SeqNum
}

// headerLen returns the encoded size of a header for stream.
func headerLen(stream string) int64 { return int64(segmentHeaderFixedLen + len(stream)) }

// appendSegmentHeader appends the encoded header to dst.
func appendSegmentHeader(dst []byte, h segmentHeader) []byte {
	start := len(dst)
	dst = append(dst, segmentMagic...)
	dst = binary.LittleEndian.AppendUint16(dst, formatVersion)
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.start))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(h.stream)))
	dst = append(dst, h.stream...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeSegmentHeader decodes the header at the start of b. It returns the header, its
// length, and a *CorruptionError (with path) when b does not start with a valid header.
func decodeSegmentHeader(b []byte, path string) (segmentHeader, int, error) {
	bad := func(off int, reason string) (segmentHeader, int, error) {
		return segmentHeader{}, 0, &CorruptionError{Path: path, Offset: int64(off), Reason: reason}
	}
	if len(b) < segmentHeaderFixedLen {
		return bad(0, "truncated segment header")
	}
	if string(b[:8]) != segmentMagic {
		return bad(0, "bad segment magic")
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != formatVersion {
		return bad(8, fmt.Sprintf("unsupported segment version %d", v))
	}
	if f := binary.LittleEndian.Uint16(b[10:]); f != 0 {
		return bad(10, fmt.Sprintf("unknown segment flags %#x", f))
	}
	start := SeqNum(binary.LittleEndian.Uint64(b[12:]))
	n := int(binary.LittleEndian.Uint16(b[20:]))
	if n > MaxStreamNameLen {
		return bad(20, fmt.Sprintf("stream name length %d too long", n))
	}
	total := segmentHeaderFixedLen + n
	if len(b) < total {
		return bad(0, "truncated segment header")
	}
	want := binary.LittleEndian.Uint32(b[22+n:])
	if got := crc32.Checksum(b[:22+n], castagnoli); got != want {
		return bad(0, fmt.Sprintf("segment header CRC mismatch: stored %#08x, computed %#08x", want, got))
	}
	return segmentHeader{stream: string(b[22 : 22+n]), start: start}, total, nil
}

// segmentFileName returns the file name of the segment starting at start.
func segmentFileName(start SeqNum) string {
	s := strconv.FormatUint(uint64(start), 10)
	return strings.Repeat("0", seqDigits-len(s)) + s + segmentSuffix
}

// parseSegmentFileName parses a name made by segmentFileName.
func parseSegmentFileName(name string) (SeqNum, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != seqDigits {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return SeqNum(v), true
}
