package base

import "bytes"

// CompareInternal orders (aKey, aSeq) against (bKey, bSeq) in internal order: user keys
// ascending (bytewise), then sequence numbers descending, so that the newest version of a
// key comes first. It returns -1, 0 or +1. The kind takes no part: two entries for the same
// key and sequence number are the same mutation.
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
