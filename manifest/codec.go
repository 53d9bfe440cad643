package manifest

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/isledb/isledb/internal/base"
)

// encoder appends the primitive values of the manifest encoding (see format.go) to a buffer.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)       { e.b = append(e.b, v) }
func (e *encoder) u64(v uint64)     { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *encoder) bytes(p []byte) {
	e.uvarint(uint64(len(p)))
	e.b = append(e.b, p...)
}

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// time writes 0 for the zero time, else 1, the Unix seconds (varint) and the nanoseconds
// (uvarint).
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.u8(0)
		return
	}
	e.u8(1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// decoder reads what encoder wrote. The first failure sticks: later reads return zero
// values, and err reports a corruption error naming the object and the failing offset
// (relative to the start of the object, base being the body's offset in it).
type decoder struct {
	b      []byte
	off    int
	base   int64
	object string
	err    error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corruptionf(d.object, d.base+int64(d.off), format, args...)
	}
}

func (d *decoder) u8() uint8 {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// length reads a length or count of items of at least minSize bytes each, and checks
// that they fit in the rest of the buffer (so that a bad count never drives an allocation).
func (d *decoder) length(minSize int) int {
	v := d.uvarint()
	if d.err != nil {
		return 0
	}
	if v > uint64(len(d.b)-d.off)/uint64(max(minSize, 1)) {
		d.fail("length %d exceeds the remaining %d bytes", v, len(d.b)-d.off)
		return 0
	}
	return int(v)
}

// bytes returns a length-prefixed byte string. It aliases the input (capacity clipped), so
// the caller must not modify it; nil for an empty string.
func (d *decoder) bytes() []byte {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	p := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return p
}

func (d *decoder) str() string {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}

func (d *decoder) time() time.Time {
	switch d.u8() {
	case 0:
		return time.Time{}
	case 1:
		sec := d.varint()
		nsec := d.uvarint()
		if d.err != nil {
			return time.Time{}
		}
		if nsec >= 1e9 {
			d.fail("nanoseconds %d out of range", nsec)
			return time.Time{}
		}
		t := time.Unix(sec, int64(nsec)).UTC()
		if t.IsZero() {
			d.fail("non-canonical zero time")
		}
		return t
	default:
		d.fail("bad time tag")
		return time.Time{}
	}
}

func (d *decoder) strs() []string {
	n := d.length(1)
	if d.err != nil || n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// int64 reads a uvarint that must fit a non-negative int64.
func (d *decoder) nonNegInt64() int64 {
	v := d.uvarint()
	if v > math.MaxInt64 {
		d.fail("value %d out of range", v)
		return 0
	}
	return int64(v)
}

// smallInt reads a uvarint that must fit a non-negative int32 (levels, bloom parameters).
func (d *decoder) smallInt() int {
	v := d.uvarint()
	if v > math.MaxInt32 {
		d.fail("value %d out of range", v)
		return 0
	}
	return int(v)
}

func (d *decoder) u32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail("value %d out of range", v)
		return 0
	}
	return uint32(v)
}

// done fails unless the whole buffer was read.
func (d *decoder) done() {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d trailing bytes", len(d.b)-d.off)
	}
}

// corruptionf returns a *base.CorruptionError (it matches ErrCorruption) naming object and
// offset (-1: unknown).
func corruptionf(object string, offset int64, format string, args ...any) error {
	return base.CorruptionErrorf(object, offset, format, args...)
}
