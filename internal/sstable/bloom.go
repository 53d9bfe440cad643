package sstable

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// The filter is a blocked bloom filter: every key touches one 64-byte line (one cache line),
// so a lookup costs one memory miss at most. For 10 bits per key and 6 probes the false
// positive rate is about 1%, a little above a classic bloom filter of the same size.

// bloomProbes returns the number of bits set per key for bitsPerKey: about bitsPerKey*ln 2,
// which minimises the false positive rate, kept within [1, 30].
func bloomProbes(bitsPerKey int) int {
	k := bitsPerKey * 69 / 100
	if k < 1 {
		k = 1
	}
	if k > 30 {
		k = 30
	}
	return k
}

// buildBloom returns the filter block contents for the given key hashes.
func buildBloom(hashes []uint64, bitsPerKey int) []byte {
	var hs hashList
	hs.chunks = [][]uint64{hashes}
	hs.n = len(hashes)
	return hs.buildBloom(bitsPerKey)
}

// hashList collects key hashes in fixed-size chunks, so that a writer of millions of keys
// never copies them to grow a slice. Chunks are recycled across writers.
type hashList struct {
	chunks [][]uint64
	n      int
}

const hashChunkLen = 8192

var hashChunkPool = sync.Pool{New: func() any { return new([hashChunkLen]uint64) }}

func (l *hashList) add(h uint64) {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == hashChunkLen {
		l.chunks = append(l.chunks, hashChunkPool.Get().(*[hashChunkLen]uint64)[:0])
	}
	k := len(l.chunks) - 1
	l.chunks[k] = append(l.chunks[k], h)
	l.n++
}

// release returns the chunks to the pool.
func (l *hashList) release() {
	for _, c := range l.chunks {
		if cap(c) == hashChunkLen {
			hashChunkPool.Put((*[hashChunkLen]uint64)(c[:hashChunkLen]))
		}
	}
	*l = hashList{}
}

// buildBloom returns the filter block contents for the hashes in l.
func (l *hashList) buildBloom(bitsPerKey int) []byte {
	lines := (l.n*bitsPerKey + bloomLineBits - 1) / bloomLineBits
	if lines < 1 {
		lines = 1
	}
	probes := bloomProbes(bitsPerKey)
	out := make([]byte, lines*bloomLineBytes+filterTrailerLen)
	bitsArea := out[:lines*bloomLineBytes]
	for _, chunk := range l.chunks {
		for _, h := range chunk {
			base := bloomLine(h, uint32(lines)) * bloomLineBits
			a := uint32(h)
			delta := (a>>17 | a<<15) | 1
			for i := 0; i < probes; i++ {
				bit := base + a%bloomLineBits
				bitsArea[bit>>3] |= 1 << (bit & 7)
				a += delta
			}
		}
	}
	t := out[lines*bloomLineBytes:]
	binary.LittleEndian.PutUint32(t, uint32(lines))
	t[4] = byte(probes)
	t[5] = filterKindBlockedBloom
	return out
}

// bloomLine maps the high half of h onto [0, lines) without division.
func bloomLine(h uint64, lines uint32) uint32 {
	return uint32((h >> 32) * uint64(lines) >> 32)
}

// bloomFilter is a decoded filter block. The zero value (no bits) means "no filter": it
// reports every key as possibly present.
type bloomFilter struct {
	bits   []byte
	lines  uint32
	probes int
}

// decodeBloom checks the filter block's trailer and returns the filter.
func decodeBloom(b []byte) (bloomFilter, error) {
	if len(b) < filterTrailerLen {
		return bloomFilter{}, fmt.Errorf("filter block of %d bytes is too short", len(b))
	}
	t := b[len(b)-filterTrailerLen:]
	lines := binary.LittleEndian.Uint32(t)
	probes := int(t[4])
	if t[5] != filterKindBlockedBloom {
		return bloomFilter{}, fmt.Errorf("unknown filter kind %d", t[5])
	}
	if lines == 0 || uint64(lines)*bloomLineBytes != uint64(len(b)-filterTrailerLen) {
		return bloomFilter{}, fmt.Errorf("filter has %d lines but %d bytes of bits", lines, len(b)-filterTrailerLen)
	}
	if probes < 1 || probes > 30 {
		return bloomFilter{}, fmt.Errorf("filter has %d probes", probes)
	}
	return bloomFilter{bits: b[:len(b)-filterTrailerLen], lines: lines, probes: probes}, nil
}

// mayContain reports whether the key with hash h may be in the file. It never returns false
// for a key that was added.
func (f *bloomFilter) mayContain(h uint64) bool {
	if f.lines == 0 {
		return true
	}
	line := f.bits[bloomLine(h, f.lines)*bloomLineBytes:]
	line = line[:bloomLineBytes]
	a := uint32(h)
	delta := (a>>17 | a<<15) | 1
	for i := 0; i < f.probes; i++ {
		bit := a % bloomLineBits
		if line[bit>>3]&(1<<(bit&7)) == 0 {
			return false
		}
		a += delta
	}
	return true
}
