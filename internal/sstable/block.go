package sstable

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/isledb/isledb/internal/base"
)

// blockBuilder accumulates the contents of a data or index block (see format.go).
type blockBuilder struct {
	buf             []byte
	restarts        []uint32
	restartInterval int
	counter         int // entries since the last restart point
	entries         int
	prevKey         []byte
}

func (b *blockBuilder) reset() {
	b.buf = b.buf[:0]
	b.restarts = b.restarts[:0]
	b.counter = 0
	b.entries = 0
	b.prevKey = b.prevKey[:0]
}

func (b *blockBuilder) empty() bool { return b.entries == 0 }

// size is the size of the contents if the block were finished now.
func (b *blockBuilder) size() int { return len(b.buf) + 4*len(b.restarts) + 4 }

// entrySize is an upper bound of the bytes add would append for an entry.
func entrySize(keyLen, valueLen int, hasExpiry bool) int {
	n := 3*binary.MaxVarintLen32 + keyLen + 8 + valueLen
	if hasExpiry {
		n += 8
	}
	return n
}

// add appends an entry. The caller guarantees the order and the limits.
func (b *blockBuilder) add(key []byte, trailer uint64, expiry int64, value []byte) {
	shared := 0
	if b.counter < b.restartInterval && b.entries > 0 {
		shared = sharedPrefixLen(b.prevKey, key)
	} else {
		b.restarts = append(b.restarts, uint32(len(b.buf)))
		b.counter = 0
	}
	b.counter++
	b.entries++
	unshared := len(key) - shared
	if shared < 128 && unshared < 128 && len(value) < 128 {
		b.buf = append(b.buf, byte(shared), byte(unshared), byte(len(value)))
	} else {
		b.buf = binary.AppendUvarint(b.buf, uint64(shared))
		b.buf = binary.AppendUvarint(b.buf, uint64(unshared))
		b.buf = binary.AppendUvarint(b.buf, uint64(len(value)))
	}
	b.buf = append(b.buf, key[shared:]...)
	b.buf = binary.LittleEndian.AppendUint64(b.buf, trailer)
	if trailer&kindFlagExpiry != 0 {
		b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(expiry))
	}
	b.buf = append(b.buf, value...)
	b.prevKey = append(b.prevKey[:0], key...)
}

// finish appends the restart array and returns the block contents. The result aliases the
// builder's buffer: it is valid until the next reset.
func (b *blockBuilder) finish() []byte {
	for _, r := range b.restarts {
		b.buf = binary.LittleEndian.AppendUint32(b.buf, r)
	}
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(b.restarts)))
	return b.buf
}

// sharedPrefixLen returns the length of the longest common prefix of a and b.
func sharedPrefixLen(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && binary.LittleEndian.Uint64(a[i:]) == binary.LittleEndian.Uint64(b[i:]) {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// makeTrailer packs a sequence number and a kind byte.
func makeTrailer(seq base.SeqNum, kind base.Kind, hasExpiry bool) uint64 {
	t := uint64(seq)<<8 | uint64(kind)
	if hasExpiry {
		t |= kindFlagExpiry
	}
	return t
}

// Block parsing. The helpers below check every length against the block bounds, so damaged
// contents produce an error, never a panic. They report damage as a short description and
// leave the building of an error value (which allocates) to the caller.

// blockLayout checks a block's restart array and returns the number of restart points and
// the offset where the entries end.
func blockLayout(data []byte) (numRestarts, restartsOff int, problem string) {
	if len(data) < 4 {
		return 0, 0, "block too short"
	}
	n := binary.LittleEndian.Uint32(data[len(data)-4:])
	if uint64(n) > uint64(len(data)-4)/4 {
		return 0, 0, "restart count does not fit"
	}
	restartsOff = len(data) - 4 - 4*int(n)
	if n == 0 && restartsOff != 0 {
		return 0, 0, "entries without restart points"
	}
	if n > 0 && binary.LittleEndian.Uint32(data[restartsOff:]) != 0 {
		return 0, 0, "first restart point is not 0"
	}
	return int(n), restartsOff, ""
}

// restartAt returns the offset of restart point j of a block laid out as blockLayout said.
func restartAt(data []byte, restartsOff, j int) (int, bool) {
	off := int(binary.LittleEndian.Uint32(data[restartsOff+4*j:]))
	return off, off < restartsOff
}

// entryHeader parses the three lengths that start an entry. n is 0 on damage.
func entryHeader(p []byte) (shared, unshared, vlen uint64, n int) {
	if len(p) >= 3 && p[0]|p[1]|p[2] < 128 {
		return uint64(p[0]), uint64(p[1]), uint64(p[2]), 3
	}
	shared, n1 := binary.Uvarint(p)
	if n1 <= 0 {
		return 0, 0, 0, 0
	}
	unshared, n2 := binary.Uvarint(p[n1:])
	if n2 <= 0 {
		return 0, 0, 0, 0
	}
	vlen, n3 := binary.Uvarint(p[n1+n2:])
	if n3 <= 0 {
		return 0, 0, 0, 0
	}
	return shared, unshared, vlen, n1 + n2 + n3
}

// entryBody parses what follows an entry's key suffix: trailer, optional expiry and a value
// of vlen bytes. n is the number of bytes consumed.
func entryBody(p []byte, vlen uint64) (trailer uint64, expiry int64, value []byte, n int, problem string) {
	if len(p) < 8 {
		return 0, 0, nil, 0, "truncated trailer"
	}
	trailer = binary.LittleEndian.Uint64(p)
	n = 8
	if !base.Kind(trailer & kindMask).Valid() {
		return 0, 0, nil, 0, "unknown kind"
	}
	if trailer&kindFlagExpiry != 0 {
		if len(p) < 16 {
			return 0, 0, nil, 0, "truncated expiry"
		}
		expiry = int64(binary.LittleEndian.Uint64(p[8:]))
		if expiry <= 0 {
			return 0, 0, nil, 0, "expiry not positive"
		}
		n = 16
	}
	if vlen > uint64(len(p)-n) {
		return 0, 0, nil, 0, "value does not fit"
	}
	value = p[n : n+int(vlen) : n+int(vlen)]
	return trailer, expiry, value, n + int(vlen), ""
}

// restartKeyAt returns the whole key of the entry at the start of p, which must be a
// restart entry (shared = 0).
func restartKeyAt(p []byte) ([]byte, string) {
	shared, unshared, _, n := entryHeader(p)
	if n == 0 {
		return nil, "bad entry lengths"
	}
	if shared != 0 {
		return nil, "restart entry with shared prefix"
	}
	if unshared > uint64(len(p)-n) {
		return nil, "key does not fit"
	}
	return p[n : n+int(unshared)], ""
}

// searchRestarts returns the offset at which to start scanning for the first entry whose
// user key is >= key: the last restart point whose key is < key, or 0.
func searchRestarts(data []byte, numRestarts, restartsOff int, key []byte) (start, badOff int, problem string) {
	lo, hi := 0, numRestarts
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		off, ok := restartAt(data, restartsOff, mid)
		if !ok {
			return 0, restartsOff, "restart point beyond entries"
		}
		rk, problem := restartKeyAt(data[off:restartsOff])
		if problem != "" {
			return 0, off, problem
		}
		if bytes.Compare(rk, key) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return 0, 0, ""
	}
	off, _ := restartAt(data, restartsOff, lo-1) // checked by the search
	return off, 0, ""
}

// blockEntry is an entry found by blockGet.
type blockEntry struct {
	trailer uint64
	expiry  int64
	value   []byte
}

// blockGet finds the first entry of a data block whose user key is >= key and reports
// whether its key equals key. It reconstructs no key: it tracks how long a prefix the
// current key shares with key, which is all the comparison needs, so it does not allocate.
func blockGet(data, key []byte) (e blockEntry, found bool, badOff int, problem string) {
	numRestarts, restartsOff, problem := blockLayout(data)
	if problem != "" {
		return e, false, 0, problem
	}
	off, badOff, problem := searchRestarts(data, numRestarts, restartsOff, key)
	if problem != "" {
		return e, false, badOff, problem
	}
	// Invariant while scanning: the previous key is < key, shares exactly m bytes with it
	// and is prevLen bytes long.
	m, prevLen := 0, 0
	for first := true; off < restartsOff; first = false {
		p := data[off:restartsOff]
		shared, unshared, vlen, n := entryHeader(p)
		switch {
		case n == 0:
			return e, false, off, "bad entry lengths"
		case first && shared != 0:
			return e, false, off, "restart entry with shared prefix"
		case shared > uint64(prevLen) || unshared > uint64(len(p)-n):
			return e, false, off, "key does not fit"
		}
		suffix := p[n : n+int(unshared)]
		c := -1
		if int(shared) <= m {
			// The key starts with key[:shared]: compare the rest.
			rest := key[shared:]
			l := sharedPrefixLen(suffix, rest)
			m = int(shared) + l
			switch {
			case l < len(suffix) && l < len(rest):
				if suffix[l] > rest[l] {
					c = 1
				}
			case l < len(suffix):
				c = 1
			case l == len(rest):
				c = 0
			}
		}
		// else: the key shares more than m bytes with the previous key, which differs
		// from key at byte m and is smaller: so is this key.
		prevLen = int(shared + unshared)
		trailer, expiry, value, bn, problem := entryBody(p[n+int(unshared):], vlen)
		if problem != "" {
			return e, false, off, problem
		}
		if c >= 0 {
			return blockEntry{trailer: trailer, expiry: expiry, value: value}, c == 0, 0, ""
		}
		off += n + int(unshared) + bn
	}
	return e, false, 0, ""
}

// blockIter walks the entries of one decoded block. The zero value is an exhausted iterator
// over no block.
type blockIter struct {
	data        []byte // the block contents
	numRestarts int
	restartsOff int // offset of the restart array = end of entries

	// Location for error messages.
	object   string
	blockOff int64

	// The current entry, valid when offset < restartsOff and err == nil.
	offset  int // offset of the current entry
	next    int // offset of the entry after it
	key     []byte
	trailer uint64
	expiry  int64
	value   []byte

	err error
}

// init points the iterator at block data (unpositioned) and checks its restart array.
func (i *blockIter) init(data []byte, object string, blockOff int64) error {
	i.data, i.object, i.blockOff = data, object, blockOff
	i.offset, i.next = 0, 0
	i.key = i.key[:0]
	i.trailer, i.expiry, i.value, i.err = 0, 0, nil, nil
	var problem string
	i.numRestarts, i.restartsOff, problem = blockLayout(data)
	if problem != "" {
		i.restartsOff = 0
		return i.corrupt(0, "%s", problem)
	}
	i.offset, i.next = i.restartsOff, i.restartsOff
	return nil
}

func (i *blockIter) corrupt(entryOff int, format string, args ...any) error {
	i.err = blockCorruption(i.object, i.blockOff, entryOff, fmt.Sprintf(format, args...))
	return i.err
}

// blockCorruption returns the error for damage found at entryOff within the block at
// blockOff.
func blockCorruption(object string, blockOff int64, entryOff int, problem string) error {
	return corruptf(object, blockOff, "block entry at +%d: %s", entryOff, problem)
}

// valid reports whether the iterator is at an entry.
func (i *blockIter) valid() bool { return i.offset < i.restartsOff && i.err == nil }

// restartOffset returns the offset of restart point j, checked.
func (i *blockIter) restartOffset(j int) (int, bool) {
	return restartAt(i.data, i.restartsOff, j)
}

// decodeAt decodes the entry at off, with the previous key in i.key. It returns false and
// sets i.err on damage.
func (i *blockIter) decodeAt(off int) bool {
	p := i.data[off:i.restartsOff]
	shared, unshared, vlen, n := entryHeader(p)
	if n == 0 {
		i.corrupt(off, "bad entry lengths")
		return false
	}
	if shared > uint64(len(i.key)) || unshared > uint64(len(p)-n) {
		i.corrupt(off, "key lengths %d+%d do not fit", shared, unshared)
		return false
	}
	i.key = append(i.key[:shared], p[n:n+int(unshared)]...)
	trailer, expiry, value, bn, problem := entryBody(p[n+int(unshared):], vlen)
	if problem != "" {
		i.corrupt(off, "%s", problem)
		return false
	}
	i.trailer, i.expiry, i.value = trailer, expiry, value
	i.offset = off
	i.next = off + n + int(unshared) + bn
	return true
}

// first moves to the first entry.
func (i *blockIter) first() bool {
	if i.err != nil || i.restartsOff == 0 {
		i.offset = i.restartsOff
		return false
	}
	i.key = i.key[:0]
	return i.decodeAt(0)
}

// nextEntry moves to the following entry.
func (i *blockIter) nextEntry() bool {
	if i.err != nil || i.next >= i.restartsOff {
		i.offset = i.restartsOff
		return false
	}
	return i.decodeAt(i.next)
}

// seekGE moves to the first entry whose user key is >= key (the newest version of key if
// present). It returns false when every entry is smaller or on damage (see i.err).
func (i *blockIter) seekGE(key []byte) bool {
	if i.err != nil {
		return false
	}
	start, badOff, problem := searchRestarts(i.data, i.numRestarts, i.restartsOff, key)
	if problem != "" {
		i.corrupt(badOff, "%s", problem)
		return false
	}
	if start >= i.restartsOff {
		return false
	}
	i.key = i.key[:0]
	if !i.decodeAt(start) {
		return false
	}
	for bytes.Compare(i.key, key) < 0 {
		if !i.nextEntry() {
			return false
		}
	}
	return true
}

// restartKey returns the whole key stored at restart entry off without moving.
func (i *blockIter) restartKey(off int) ([]byte, bool) {
	k, problem := restartKeyAt(i.data[off:i.restartsOff])
	if problem != "" {
		i.corrupt(off, "%s", problem)
		return nil, false
	}
	return k, true
}

// seq and kind decode the current trailer.
func (i *blockIter) seq() base.SeqNum { return base.SeqNum(i.trailer >> 8) }
func (i *blockIter) kind() base.Kind  { return base.Kind(i.trailer & kindMask) }
