package base

import "strconv"

// SeqNum is the sequence number the writer assigns to every mutation. Newer mutations have
// larger numbers; for one user key the entry with the largest SeqNum wins.
type SeqNum uint64

const (
	// SeqNumZero is the zero sequence number. It is valid: bulk-loaded data may carry it.
	SeqNumZero SeqNum = 0
	// SeqNumMax is the largest sequence number an entry may carry. On disk a sequence number
	// shares a 64-bit trailer word with a kind byte, which leaves 56 bits. Frozen.
	SeqNumMax SeqNum = 1<<56 - 1
)

// String returns the number in decimal.
func (s SeqNum) String() string { return strconv.FormatUint(uint64(s), 10) }
