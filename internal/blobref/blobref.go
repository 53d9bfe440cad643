// Package blobref encodes the reference an SST holds in place of a large value that was
// written as a separate blob object ("blob/<sha256 hex>").
//
// A reference is 40 bytes (format version 1, frozen):
//
//	+-----------------------------+------------------------+
//	| SHA-256 of the value (32 B) | value length (8 B, LE) |
//	+-----------------------------+------------------------+
package blobref

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Size is the length of an encoded reference. Frozen.
const Size = sha256.Size + 8

// ErrCorrupt is what Decode's errors wrap.
var ErrCorrupt = errors.New("blobref: corrupt blob reference")

// Ref names a blob by content.
type Ref struct {
	Hash   [sha256.Size]byte
	Length int64
}

// Of returns the reference of value.
func Of(value []byte) Ref { return Ref{Hash: sha256.Sum256(value), Length: int64(len(value))} }

// ID returns the blob's id: its hash in lowercase hex, the key under blob/.
func (r Ref) ID() string { return hex.EncodeToString(r.Hash[:]) }

// Append appends the encoded reference to dst.
func (r Ref) Append(dst []byte) []byte {
	dst = append(dst, r.Hash[:]...)
	return binary.LittleEndian.AppendUint64(dst, uint64(r.Length))
}

// Decode parses an encoded reference.
func Decode(b []byte) (Ref, error) {
	if len(b) != Size {
		return Ref{}, fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, len(b), Size)
	}
	var r Ref
	copy(r.Hash[:], b)
	l := binary.LittleEndian.Uint64(b[sha256.Size:])
	if l > 1<<40 {
		return Ref{}, fmt.Errorf("%w: length %d", ErrCorrupt, l)
	}
	r.Length = int64(l)
	return r, nil
}

// Verify checks that value is the blob r names.
func (r Ref) Verify(value []byte) error {
	if int64(len(value)) != r.Length || sha256.Sum256(value) != r.Hash {
		return fmt.Errorf("%w: blob %s does not match its content (%d bytes, want %d)", ErrCorrupt, r.ID(), len(value), r.Length)
	}
	return nil
}
