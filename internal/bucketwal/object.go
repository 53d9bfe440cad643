package bucketwal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/isledb/isledb/internal/base"
)

// Dir is the key prefix of WAL objects in the bucket (base.WALObjectDir). Frozen.
const Dir = base.WALObjectDir

// Key returns the bucket key of the WAL object at position pos: "wal/<pos:020d>.wal"
// (base.WALObjectKey).
func Key(pos uint64) string { return base.WALObjectKey(pos) }

// ParseKey returns the position a WAL object key names, or false for any other key
// (base.WALObjectPosOfKey).
func ParseKey(key string) (uint64, bool) { return base.WALObjectPosOfKey(key) }

// Kind tells what a WAL object is for.
type Kind uint8

const (
	// KindData is a group commit: it holds records.
	KindData Kind = 0
	// KindFence is written by a new writer to close the chain to the writers before it; it
	// holds no records.
	KindFence Kind = 1
)

// The frame of a WAL object (version 1). Frozen.
//
//	+--------+---------+------+----------+----------+---------------+----------+----------+
//	| magic  | version | kind | position | epoch    | covered below | seq lo   | seq hi   |
//	| "IWAL" | 1 B = 1 | 1 B  | 8 B (LE) | 8 B (LE) | 8 B (LE)      | 8 B (LE) | 8 B (LE) |
//	+--------+---------+------+----------+----------+---------------+----------+----------+
//	| count   | count records:              | crc32c                              |
//	| uvarint | length uvarint, then bytes  | 4 B (LE) of every byte before it    |
//	+---------+-----------------------------+-------------------------------------+
//
// seq lo and seq hi bound the sequence numbers of the records (both 0 when there are none).
const (
	magic      = "IWAL"
	version    = 1
	headerSize = 4 + 1 + 1 + 5*8
	trailer    = 4
)

// MinObjectSize is the size of a WAL object without records.
const MinObjectSize = headerSize + 1 + trailer

// ErrCorruption marks a WAL object that does not decode. It wraps base.ErrCorruption.
var ErrCorruption = fmt.Errorf("bucketwal: %w", base.ErrCorruption)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Object is one WAL object.
type Object struct {
	Kind     Kind
	Position uint64
	// Epoch is the fence epoch of the writer that wrote the object.
	Epoch uint64
	// CoveredBelow: every record in an object at a position below it is in the manifest.
	CoveredBelow uint64
	// SeqLo and SeqHi bound the records' sequence numbers (0 and 0 without records).
	SeqLo, SeqHi uint64
	// Records are the group's records, in order; they alias the decoded bytes.
	Records [][]byte
}

// appendHeader appends the header of an object with n records; the caller appends the
// records (AppendRecord) and then finish.
func appendHeader(dst []byte, o *Object, n int) []byte {
	dst = append(dst, magic...)
	dst = append(dst, version, byte(o.Kind))
	for _, v := range []uint64{o.Position, o.Epoch, o.CoveredBelow, o.SeqLo, o.SeqHi} {
		dst = binary.LittleEndian.AppendUint64(dst, v)
	}
	return binary.AppendUvarint(dst, uint64(n))
}

// AppendRecord appends one framed record (length, then bytes) to dst.
func AppendRecord(dst, rec []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(rec)))
	return append(dst, rec...)
}

// finish appends the checksum of obj[start:].
func finish(obj []byte, start int) []byte {
	return binary.LittleEndian.AppendUint32(obj, crc32.Checksum(obj[start:], crcTable))
}

// Encode appends the encoding of o to dst.
func Encode(dst []byte, o *Object) []byte {
	start := len(dst)
	dst = appendHeader(dst, o, len(o.Records))
	for _, r := range o.Records {
		dst = AppendRecord(dst, r)
	}
	return finish(dst, start)
}

// encodeFramed encodes an object whose records are already framed (AppendRecord) in
// framed, n of them.
func encodeFramed(dst []byte, o *Object, n int, framed []byte) []byte {
	start := len(dst)
	dst = appendHeader(dst, o, n)
	dst = append(dst, framed...)
	return finish(dst, start)
}

// Decode decodes the WAL object key holds. Any malformed object is an error wrapping
// ErrCorruption that names key; Decode never panics.
func Decode(key string, data []byte) (*Object, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: WAL object %s: %s", ErrCorruption, key, fmt.Sprintf(format, args...))
	}
	if len(data) < MinObjectSize {
		return nil, bad("%d bytes, shorter than the smallest object (%d)", len(data), MinObjectSize)
	}
	if string(data[:4]) != magic {
		return nil, bad("bad magic %q", data[:4])
	}
	if data[4] != version {
		return nil, bad("unknown version %d", data[4])
	}
	body := data[:len(data)-trailer]
	if got, want := crc32.Checksum(body, crcTable), binary.LittleEndian.Uint32(data[len(body):]); got != want {
		return nil, bad("checksum %08x, want %08x", got, want)
	}
	o := &Object{Kind: Kind(data[5])}
	if o.Kind != KindData && o.Kind != KindFence {
		return nil, bad("unknown kind %d", data[5])
	}
	f := [5]uint64{}
	for i := range f {
		f[i] = binary.LittleEndian.Uint64(data[6+8*i:])
	}
	o.Position, o.Epoch, o.CoveredBelow, o.SeqLo, o.SeqHi = f[0], f[1], f[2], f[3], f[4]
	if o.Position == 0 || o.Epoch == 0 {
		return nil, bad("position %d, epoch %d: both must be above 0", o.Position, o.Epoch)
	}
	if o.CoveredBelow > o.Position+1 {
		return nil, bad("covered below %d, past its own position %d", o.CoveredBelow, o.Position)
	}
	rest := body[headerSize:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, bad("bad record count")
	}
	rest = rest[k:]
	if (n == 0) != (o.SeqLo == 0 && o.SeqHi == 0) || o.SeqLo > o.SeqHi || (n > 0 && o.SeqLo == 0) {
		return nil, bad("%d records with sequence numbers %d to %d", n, o.SeqLo, o.SeqHi)
	}
	if o.Kind == KindFence && n > 0 {
		return nil, bad("a fence with %d records", n)
	}
	o.Records = make([][]byte, 0, n)
	for i := range n {
		l, k := binary.Uvarint(rest)
		if k <= 0 || l > uint64(len(rest)-k) {
			return nil, bad("record %d: bad length", i)
		}
		o.Records = append(o.Records, rest[k:k+int(l)])
		rest = rest[k+int(l):]
	}
	if len(rest) != 0 {
		return nil, bad("%d bytes after the last record", len(rest))
	}
	return o, nil
}
