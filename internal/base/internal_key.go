package base

import "bytes"

// InternalKey is a user key together with the sequence number and kind of one mutation of it.
// Internal keys sort by user key ascending (bytewise), then by sequence number descending, so
// that the newest version of a key comes first.
type InternalKey struct {
	UserKey []byte
	Seq     SeqNum
	Kind    Kind
}

// Compare orders k against o in internal order: it returns -1, 0 or +1. The kind does not take
// part: two entries for the same key and sequence number are the same mutation.
func (k InternalKey) Compare(o InternalKey) int {
	return CompareInternal(k.UserKey, k.Seq, o.UserKey, o.Seq)
}

// CompareInternal orders (aKey, aSeq) against (bKey, bSeq): user keys ascending, then sequence
// numbers descending. It returns -1, 0 or +1.
func CompareInternal(aKey []byte, aSeq SeqNum, bKey []byte, bSeq SeqNum) int {
	if c := bytes.Compare(aKey, bKey); c != 0 {
		return c
	}
	switch {
	case aSeq > bSeq:
		return -1
	case aSeq < bSeq:
		return 1
	}
	return 0
}

// SeekKey returns the smallest internal key whose user key is userKey: seeking to it finds
// the newest version of userKey, or the first entry after it.
func SeekKey(userKey []byte) InternalKey {
	return InternalKey{UserKey: userKey, Seq: SeqNumMax, Kind: KindMax}
}
