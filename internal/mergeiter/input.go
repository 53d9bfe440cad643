package mergeiter

import "github.com/isledb/isledb/internal/base"

// Input is one sorted source of entries: a memtable, an SST, another merged iterator. It
// yields entries in internal order (user key ascending, then sequence number descending) and
// hides nothing. *sstable.Iterator satisfies it, as does *Iterator (an Iterator in ModeAll
// hides nothing either, so merges can be nested).
//
// The Iterator that merges an Input is its only caller, from one goroutine at a time. Key
// and Value need stay valid only until the Input's next positioning call; the Iterator never
// modifies them.
type Input interface {
	// First moves to the first entry and reports whether there is one.
	First() bool
	// SeekGE moves to the first entry whose user key is >= key (the newest version of key,
	// if the input has it) and reports whether there is one. key is only read during the
	// call.
	SeekGE(key []byte) bool
	// Next moves to the following entry and reports whether there is one.
	Next() bool
	// Valid reports whether the input is positioned at an entry.
	Valid() bool
	// Key returns the current entry's user key.
	Key() []byte
	// Value returns the current entry's value.
	Value() []byte
	// Seq returns the current entry's sequence number.
	Seq() base.SeqNum
	// Kind returns the current entry's kind.
	Kind() base.Kind
	// Expiry returns the current entry's expiry in unix nanoseconds; 0 means never.
	Expiry() int64
	// Err returns the error that stopped the input, if any. An input that simply ran out of
	// entries has none.
	Err() error
	// Close releases the input. It may return the input's error.
	Close() error
}
