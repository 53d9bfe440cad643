package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// ValueType is the type of a Value. Its numeric value is the value's tag byte in the
// stored encoding (docs/format.md, "kv value encoding"): frozen.
type ValueType uint8

// The value types. The zero ValueType is not a type: Put refuses such a Value with
// ErrInvalidValue.
const (
	// ValueTypeInt64 holds Value.Int64.
	ValueTypeInt64 ValueType = 1
	// ValueTypeFloat64 holds Value.Float64.
	ValueTypeFloat64 ValueType = 2
	// ValueTypeBool holds Value.Bool.
	ValueTypeBool ValueType = 3
	// ValueTypeString holds a string in Value.Bytes.
	ValueTypeString ValueType = 4
	// ValueTypeBytes holds Value.Bytes.
	ValueTypeBytes ValueType = 5
	// ValueTypeTombstone marks a deletion. Put of a tombstone deletes the key.
	ValueTypeTombstone ValueType = 6
)

// String returns the type's name: "int64", "float64", "bool", "string", "bytes",
// "tombstone", or "ValueType(n)" for an unknown one.
func (t ValueType) String() string {
	switch t {
	case ValueTypeInt64:
		return "int64"
	case ValueTypeFloat64:
		return "float64"
	case ValueTypeBool:
		return "bool"
	case ValueTypeString:
		return "string"
	case ValueTypeBytes:
		return "bytes"
	case ValueTypeTombstone:
		return "tombstone"
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the value types.
func (t ValueType) Valid() bool { return t >= ValueTypeInt64 && t <= ValueTypeTombstone }

// Value is a typed value. Type says which field holds it: Int64, Float64, Bool, or Bytes
// (for strings and byte strings). A Value returned by Get owns its Bytes.
//
// Large strings and byte strings need no special handling: the engine moves values of
// config.DefaultValueStorageConfig's blob threshold or more into blobs of their own
// (docs/format.md), so unlike the design this API comes from there is no data pointer.
type Value struct {
	Type    ValueType
	Int64   int64
	Float64 float64
	Bool    bool
	// Bytes holds a string's bytes or a byte string.
	Bytes []byte
}

// Int64Value returns a Value holding v.
func Int64Value(v int64) Value { return Value{Type: ValueTypeInt64, Int64: v} }

// Float64Value returns a Value holding v.
func Float64Value(v float64) Value { return Value{Type: ValueTypeFloat64, Float64: v} }

// BoolValue returns a Value holding v.
func BoolValue(v bool) Value { return Value{Type: ValueTypeBool, Bool: v} }

// StringValue returns a Value holding s (copied).
func StringValue(s string) Value { return Value{Type: ValueTypeString, Bytes: []byte(s)} }

// BytesValue returns a Value holding b (not copied: do not modify b until it is stored).
func BytesValue(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{Type: ValueTypeBytes, Bytes: b}
}

// TombstoneValue returns a tombstone, the Value of a deletion.
func TombstoneValue() Value { return Value{Type: ValueTypeTombstone} }

// IsTombstone reports whether v represents a deletion.
func (v Value) IsTombstone() bool { return v.Type == ValueTypeTombstone }

// String formats v for humans, as type:value.
func (v Value) String() string {
	switch v.Type {
	case ValueTypeInt64:
		return "int64:" + strconv.FormatInt(v.Int64, 10)
	case ValueTypeFloat64:
		return "float64:" + strconv.FormatFloat(v.Float64, 'g', -1, 64)
	case ValueTypeBool:
		return "bool:" + strconv.FormatBool(v.Bool)
	case ValueTypeString:
		return "string:" + strconv.Quote(string(v.Bytes))
	case ValueTypeBytes:
		return fmt.Sprintf("bytes:%x", v.Bytes)
	case ValueTypeTombstone:
		return "tombstone"
	}
	return v.Type.String()
}

// Equal reports whether v and o have the same type and value (floats compare by bits, so a
// NaN equals itself).
func (v Value) Equal(o Value) bool {
	if v.Type != o.Type {
		return false
	}
	switch v.Type {
	case ValueTypeInt64:
		return v.Int64 == o.Int64
	case ValueTypeFloat64:
		return math.Float64bits(v.Float64) == math.Float64bits(o.Float64)
	case ValueTypeBool:
		return v.Bool == o.Bool
	case ValueTypeString, ValueTypeBytes:
		return bytes.Equal(v.Bytes, o.Bytes)
	}
	return true
}

// The encoding of a Value (version 1, frozen; docs/format.md, "kv value encoding"):
//
//	+---------+-----------------------------------------------+
//	| tag 1 B | payload                                       |
//	+---------+-----------------------------------------------+
//	  0x01 int64      8 B, big-endian two's complement
//	  0x02 float64    8 B, big-endian IEEE 754 binary64 bits
//	  0x03 bool       1 B, 0x00 false or 0x01 true
//	  0x04 string     uvarint length n, then n bytes
//	  0x05 bytes      uvarint length n, then n bytes
//	  0x06 tombstone  no payload
//
// Tags 0x00 and 0x07-0xFF are invalid in version 1 (reserved for later versions). The
// store keeps exactly one encoded value per engine value: trailing bytes are an error.

// EncodedSize returns the length of v's encoding.
func (v *Value) EncodedSize() int {
	switch v.Type {
	case ValueTypeInt64, ValueTypeFloat64:
		return 9
	case ValueTypeBool:
		return 2
	case ValueTypeString, ValueTypeBytes:
		return 1 + uvarintLen(uint64(len(v.Bytes))) + len(v.Bytes)
	}
	return 1
}

// EncodeValue returns v's encoding. A Value of an unknown type encodes as its tag byte
// alone, which DecodeValue refuses (Put checks the type first).
func EncodeValue(v Value) []byte {
	return AppendEncodedValue(make([]byte, 0, v.EncodedSize()), v)
}

// AppendEncodedValue appends v's encoding to dst and returns the extended slice; it does
// not allocate when dst has room for v.EncodedSize() more bytes.
func AppendEncodedValue(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.Type))
	switch v.Type {
	case ValueTypeInt64:
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.Int64))
	case ValueTypeFloat64:
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(v.Float64))
	case ValueTypeBool:
		b := byte(0)
		if v.Bool {
			b = 1
		}
		dst = append(dst, b)
	case ValueTypeString, ValueTypeBytes:
		dst = binary.AppendUvarint(dst, uint64(len(v.Bytes)))
		dst = append(dst, v.Bytes...)
	}
	return dst
}

// DecodeValue decodes the value at the start of data and returns it with the number of
// bytes it took. Bytes are copied: the Value does not alias data. Bad bytes are an error
// matching ErrInvalidValue; it never panics.
func DecodeValue(data []byte) (Value, int, error) {
	v, n, err := DecodeValueZeroCopy(data)
	if err == nil && v.Bytes != nil {
		v.Bytes = bytes.Clone(v.Bytes)
	}
	return v, n, err
}

// DecodeValueZeroCopy is DecodeValue without the copy: a string's or byte string's Bytes
// alias data, and are valid only as long as data is (and unchanged).
func DecodeValueZeroCopy(data []byte) (Value, int, error) {
	if len(data) == 0 {
		return Value{}, 0, fmt.Errorf("%w: empty", ErrInvalidValue)
	}
	t := ValueType(data[0])
	p := data[1:]
	switch t {
	case ValueTypeInt64, ValueTypeFloat64:
		if len(p) < 8 {
			return Value{}, 0, fmt.Errorf("%w: %v needs 8 bytes, have %d", ErrInvalidValue, t, len(p))
		}
		u := binary.BigEndian.Uint64(p)
		if t == ValueTypeInt64 {
			return Int64Value(int64(u)), 9, nil
		}
		return Float64Value(math.Float64frombits(u)), 9, nil
	case ValueTypeBool:
		if len(p) < 1 || p[0] > 1 {
			return Value{}, 0, fmt.Errorf("%w: bool needs one byte 0x00 or 0x01", ErrInvalidValue)
		}
		return BoolValue(p[0] == 1), 2, nil
	case ValueTypeString, ValueTypeBytes:
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return Value{}, 0, fmt.Errorf("%w: %v: bad length", ErrInvalidValue, t)
		}
		if k != uvarintLen(n) {
			// One value, one encoding: a padded length is refused.
			return Value{}, 0, fmt.Errorf("%w: %v: length not in its shortest uvarint form", ErrInvalidValue, t)
		}
		b := p[k : k+int(n) : k+int(n)]
		return Value{Type: t, Bytes: b}, 1 + k + int(n), nil
	case ValueTypeTombstone:
		return TombstoneValue(), 1, nil
	}
	return Value{}, 0, fmt.Errorf("%w: unknown tag %#02x", ErrInvalidValue, data[0])
}

func uvarintLen(n uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], n)
}

// decodeStored decodes an engine value: exactly one encoded Value.
func decodeStored(data []byte) (Value, error) {
	v, n, err := DecodeValueZeroCopy(data)
	if err != nil {
		return Value{}, err
	}
	if n != len(data) {
		return Value{}, fmt.Errorf("%w: %d trailing bytes after the value", ErrInvalidValue, len(data)-n)
	}
	return v, nil
}

// CompareKeys orders two keys as the store does: bytewise, -1 if a < b, 0 if equal, 1 if
// a > b.
func CompareKeys(a, b []byte) int { return bytes.Compare(a, b) }
