package mergeiter

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/isledb/isledb/internal/base"
)

// Entry is one entry of a SliceInput.
type Entry = base.Entry

// compareEntries orders entries in internal order.
func compareEntries(a, b Entry) int {
	return base.CompareInternal(a.Key, a.Seq, b.Key, b.Seq)
}

// SliceInput is an Input over entries held in memory, for tests (of this package and of
// others) and for small in-memory sources. It can be told to fail, to exercise error paths.
// It is not safe for concurrent use.
type SliceInput struct {
	entries []Entry
	pos     int
	valid   bool
	err     error

	failIn  int // positioning calls left before failErr strikes; < 0: never
	failErr error
	closed  bool
	closes  int
}

var _ Input = (*SliceInput)(nil)

// NewSliceInput returns an Input over entries. If entries are already in internal order
// (user key ascending, then sequence number descending) they are used in place, so they must
// not be modified while the input is in use; otherwise a sorted copy is made. Keys and values
// are never copied.
func NewSliceInput(entries []Entry) *SliceInput {
	if !slices.IsSortedFunc(entries, compareEntries) {
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, compareEntries)
	}
	return &SliceInput{entries: entries, failIn: -1}
}

// FailAfter makes the input fail with err at its (n+1)th positioning call (First, SeekGE or
// Next) from now: n calls succeed, the next one returns false with Err() == err, and so
// do all later ones. Close then returns err too.
func (s *SliceInput) FailAfter(n int, err error) {
	s.failIn = n
	s.failErr = err
}

// Len returns the number of entries.
func (s *SliceInput) Len() int { return len(s.entries) }

// Closed reports whether Close has been called.
func (s *SliceInput) Closed() bool { return s.closed }

// CloseCount returns how many times Close has been called.
func (s *SliceInput) CloseCount() int { return s.closes }

// step accounts for one positioning call; it reports false if the input has failed.
func (s *SliceInput) step() bool {
	if s.err != nil {
		s.valid = false
		return false
	}
	if s.failIn == 0 {
		s.err = s.failErr
		s.failIn = -1
		s.valid = false
		return false
	}
	if s.failIn > 0 {
		s.failIn--
	}
	return true
}

func (s *SliceInput) at(i int) bool {
	s.pos = i
	s.valid = i < len(s.entries)
	return s.valid
}

// First moves to the first entry.
func (s *SliceInput) First() bool {
	if !s.step() {
		return false
	}
	return s.at(0)
}

// SeekGE moves to the first entry whose user key is >= key.
func (s *SliceInput) SeekGE(key []byte) bool {
	if !s.step() {
		return false
	}
	i, _ := slices.BinarySearchFunc(s.entries, key, func(e Entry, k []byte) int {
		return cmp.Or(bytes.Compare(e.Key, k), 1) // never equal: finds the first e.Key >= k
	})
	return s.at(i)
}

// Next moves to the following entry.
func (s *SliceInput) Next() bool {
	if !s.valid || !s.step() {
		return false
	}
	return s.at(s.pos + 1)
}

// Valid reports whether the input is positioned at an entry.
func (s *SliceInput) Valid() bool { return s.valid }

// Key returns the current entry's key; it aliases the Entry's.
func (s *SliceInput) Key() []byte { return s.entries[s.pos].Key }

// Value returns the current entry's value; it aliases the Entry's.
func (s *SliceInput) Value() []byte { return s.entries[s.pos].Value }

// Seq returns the current entry's sequence number.
func (s *SliceInput) Seq() base.SeqNum { return s.entries[s.pos].Seq }

// Kind returns the current entry's kind.
func (s *SliceInput) Kind() base.Kind { return s.entries[s.pos].Kind }

// Expiry returns the current entry's expiry.
func (s *SliceInput) Expiry() int64 { return s.entries[s.pos].Expiry }

// Err returns the injected error once it has struck, else nil.
func (s *SliceInput) Err() error { return s.err }

// Close marks the input closed and returns its error, if any.
func (s *SliceInput) Close() error {
	s.closed = true
	s.closes++
	s.valid = false
	return s.err
}
