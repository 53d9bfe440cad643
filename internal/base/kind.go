package base

import "strconv"

// Kind says what an entry means for its key. Its numeric values are written to disk (SST
// files, WAL records) and are frozen: add new kinds, never renumber old ones.
type Kind uint8

const (
	// KindDelete is a tombstone: the key has no value as of this entry's sequence number.
	KindDelete Kind = 0
	// KindValue carries the value inline.
	KindValue Kind = 1
	// KindBlobRef carries a reference to a value stored as a separate blob object. The
	// reference's encoding belongs to the blob layer; the SST stores it as an opaque value.
	KindBlobRef Kind = 2

	// KindMax is the largest valid kind.
	KindMax = KindBlobRef
)

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return k <= KindMax }

// String returns a short lowercase name ("delete", "value", "blobref").
func (k Kind) String() string {
	switch k {
	case KindDelete:
		return "delete"
	case KindValue:
		return "value"
	case KindBlobRef:
		return "blobref"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}
