package base

// Entry is one mutation of a key: what a memtable holds, an SST stores and a merging
// iterator yields. The memtable, SST and merge packages share this one type (as their
// Entry aliases), so a flush hands memtable entries to the SST writer as they are.
type Entry struct {
	// Key is the user key.
	Key []byte
	// Value is the value: inline bytes for KindValue, an opaque blob reference for
	// KindBlobRef, usually empty for KindDelete.
	Value []byte
	// Seq is the sequence number, at most SeqNumMax.
	Seq SeqNum
	// Kind says what the entry means.
	Kind Kind
	// Expiry is when the entry expires, in unix nanoseconds; 0 means never.
	Expiry int64
}
