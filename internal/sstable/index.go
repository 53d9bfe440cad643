package sstable

import (
	"bytes"
	"encoding/binary"

	"github.com/isledb/isledb/internal/base"
)

// indexBlock is the decoded index: one separator and handle per data block, searchable
// without allocating. Separator keys are not copied: they point into the index block's
// contents.
//
// A binary search over thousands of separators would touch a cache line of key bytes at
// every step. So the index also keeps, for each separator, the 8 bytes that follow the
// prefix common to all separators, packed big-endian into a dense array of uint64: most
// steps compare two integers and only ties look at the keys.
type indexBlock struct {
	data     []byte
	entries  []indexEntry
	common   []byte   // the prefix shared by every separator
	prefixes []uint64 // window(separator i), see window
}

type indexEntry struct {
	keyOff, keyLen uint32
	seq            base.SeqNum
	handle         blockHandle
}

func (x *indexBlock) key(i int) []byte {
	e := &x.entries[i]
	return x.data[e.keyOff : e.keyOff+e.keyLen]
}

// window returns the 8 bytes of k after the common prefix, big-endian, zero-padded. For
// keys that share the common prefix, window(a) < window(b) implies a < b.
func window(k []byte, skip int) uint64 {
	k = k[skip:]
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(k)
	}
	var b [8]byte
	copy(b[:], k)
	return binary.BigEndian.Uint64(b[:])
}

// initSearch computes the common prefix and the windows.
func (x *indexBlock) initSearch() {
	if len(x.entries) == 0 {
		return
	}
	first := x.key(0)
	lcp := len(first)
	for i := 1; i < len(x.entries) && lcp > 0; i++ {
		lcp = min(lcp, sharedPrefixLen(first, x.key(i)))
	}
	x.common = first[:lcp:lcp]
	x.prefixes = make([]uint64, len(x.entries))
	for i := range x.entries {
		x.prefixes[i] = window(x.key(i), lcp)
	}
}

// search returns the index of the first data block whose separator's user key is >= key:
// the only block that can hold key's newest version, and the first block that can hold an
// entry >= key. It returns len(entries) if there is none.
func (x *indexBlock) search(key []byte) int {
	n := len(x.entries)
	if n == 0 {
		return 0
	}
	lcp := len(x.common)
	if m := min(len(key), lcp); !bytes.Equal(key[:m], x.common[:m]) {
		if bytes.Compare(key[:m], x.common[:m]) < 0 {
			return 0
		}
		return n
	} else if m < lcp {
		return 0 // key is a proper prefix of every separator
	}
	w := window(key, lcp)
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		p := x.prefixes[mid]
		less := p < w
		if p == w {
			e := &x.entries[mid]
			less = bytes.Compare(x.data[e.keyOff:e.keyOff+e.keyLen], key) < 0
		}
		if less {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// decodeIndex parses and checks the index block contents: every entry a restart point,
// separators strictly ascending, handles back to back from offset 0 up to dataEnd.
func decodeIndex(data []byte, object string, blockOff int64, dataEnd uint64) (indexBlock, error) {
	var it blockIter
	if err := it.init(data, object, blockOff); err != nil {
		return indexBlock{}, err
	}
	x := indexBlock{data: data, entries: make([]indexEntry, 0, it.numRestarts)}
	next := uint64(0)
	off := 0
	for j := 0; off < it.restartsOff; j++ {
		if j >= it.numRestarts {
			return indexBlock{}, it.corrupt(off, "index entry is not a restart point")
		}
		if r, _ := it.restartOffset(j); r != off {
			return indexBlock{}, it.corrupt(off, "restart point %d at %d, entry at %d", j, r, off)
		}
		p := data[off:it.restartsOff]
		shared, n1 := binary.Uvarint(p)
		if n1 <= 0 || shared != 0 {
			return indexBlock{}, it.corrupt(off, "index entry with shared key prefix")
		}
		unshared, n2 := binary.Uvarint(p[n1:])
		if n2 <= 0 {
			return indexBlock{}, it.corrupt(off, "bad index key length")
		}
		vlen, n3 := binary.Uvarint(p[n1+n2:])
		if n3 <= 0 {
			return indexBlock{}, it.corrupt(off, "bad index value length")
		}
		h := n1 + n2 + n3
		if unshared > uint64(len(p)-h) || 8 > uint64(len(p)-h)-unshared || vlen > uint64(len(p)-h)-unshared-8 {
			return indexBlock{}, it.corrupt(off, "index entry does not fit")
		}
		keyOff := off + h
		trailer := binary.LittleEndian.Uint64(data[keyOff+int(unshared):])
		if trailer&0xff != 0 {
			return indexBlock{}, it.corrupt(off, "index entry kind byte %#x", trailer&0xff)
		}
		valOff := keyOff + int(unshared) + 8
		handle, ok := decodeHandle(data[valOff : valOff+int(vlen)])
		if !ok {
			return indexBlock{}, it.corrupt(off, "bad block handle")
		}
		if handle.offset != next || handle.length > maxBlockSize || handle.length > dataEnd || handle.end() > dataEnd {
			return indexBlock{}, it.corrupt(off, "block handle (%d, %d) does not follow %d within %d", handle.offset, handle.length, next, dataEnd)
		}
		next = handle.end()
		e := indexEntry{keyOff: uint32(keyOff), keyLen: uint32(unshared), seq: base.SeqNum(trailer >> 8), handle: handle}
		if n := len(x.entries); n > 0 {
			prev := &x.entries[n-1]
			if base.CompareInternal(x.data[prev.keyOff:prev.keyOff+prev.keyLen], prev.seq, data[keyOff:keyOff+int(unshared)], e.seq) >= 0 {
				return indexBlock{}, it.corrupt(off, "index separators out of order")
			}
		}
		x.entries = append(x.entries, e)
		off = valOff + int(vlen)
	}
	if len(x.entries) != it.numRestarts {
		return indexBlock{}, it.corrupt(off, "%d restart points for %d index entries", it.numRestarts, len(x.entries))
	}
	if next != dataEnd {
		return indexBlock{}, it.corrupt(off, "data blocks end at %d, meta blocks start at %d", next, dataEnd)
	}
	x.initSearch()
	return x, nil
}
