package sstable

import (
	"encoding/binary"
	"math/bits"
)

// hash64 is the 64-bit hash of user keys that the bloom filter uses. It is part of the file
// format (filter kind 1): a change would make every existing filter answer wrongly, so the
// function, its seed and its constants are frozen. hash_test.go pins its output.
//
// Construction: the input is consumed 16 bytes at a time; each step multiplies two 64-bit
// words (input words xored with constants and the running state) into a 128-bit product and
// folds its halves together. A 0..15 byte tail is packed into words without reading past the
// end, the length is mixed in at the start, and a final multiply-xorshift round spreads every
// input bit over the whole result. It is not a cryptographic hash: it needs to be fast and to
// look random to a bloom filter, nothing more.
func hash64(b []byte) uint64 {
	n := len(b)
	h := hashSeed ^ uint64(n)*hashK0
	for len(b) >= 16 {
		h = foldMul(binary.LittleEndian.Uint64(b)^hashK1^h, binary.LittleEndian.Uint64(b[8:])^hashK2)
		b = b[16:]
	}
	var lo, hi uint64
	switch m := len(b); {
	case m >= 8:
		lo = binary.LittleEndian.Uint64(b)
		hi = binary.LittleEndian.Uint64(b[m-8:]) // overlaps lo when m < 16; the length tells them apart
	case m >= 4:
		lo = uint64(binary.LittleEndian.Uint32(b))<<32 | uint64(binary.LittleEndian.Uint32(b[m-4:]))
	case m > 0:
		lo = uint64(b[0])<<16 | uint64(b[m/2])<<8 | uint64(b[m-1])
	}
	h = foldMul(lo^hashK1^h, hi^hashK3)
	// Final avalanche (multiply-xorshift).
	h ^= h >> 31
	h *= hashK2
	h ^= h >> 29
	h *= hashK3
	h ^= h >> 32
	return h
}

// foldMul multiplies a and b into 128 bits and xors the two halves.
func foldMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// Frozen constants of hash64: the seed and odd 64-bit multipliers (the first is the golden
// ratio's fraction, the others are well-mixed odd numbers).
const (
	hashSeed = 0x1513_d8e2_7a0b_c6f5
	hashK0   = 0x9e37_79b9_7f4a_7c15
	hashK1   = 0xbf58_476d_1ce4_e5b9
	hashK2   = 0x94d0_49bb_1331_11eb
	hashK3   = 0xd6e8_feb8_6659_fd93
)
