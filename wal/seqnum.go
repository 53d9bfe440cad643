package wal

import "fmt"

// SeqNum is the sequence number of an entry within its stream. The first entry of a stream is
// 0, and each append takes the next number; numbers are never reused, not even after
// Truncate.
type SeqNum uint64

// Range is the half-open interval [Start, End) of sequence numbers assigned to a batch.
type Range struct {
	Start SeqNum // first sequence number in the range
	End   SeqNum // one past the last
}

// Len returns the number of sequence numbers in r.
func (r Range) Len() int {
	if r.End <= r.Start {
		return 0
	}
	return int(r.End - r.Start)
}

// Contains reports whether id lies in r.
func (r Range) Contains(id SeqNum) bool { return id >= r.Start && id < r.End }

// String formats r as "[start, end)".
func (r Range) String() string { return fmt.Sprintf("[%d, %d)", r.Start, r.End) }
