package sstable

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"testing"
)

// TestHashFrozen pins hash64's output. The bloom filters of existing files depend on it: if
// this test fails, the change breaks the file format.
func TestHashFrozen(t *testing.T) {
	tests := []struct {
		n    int
		want uint64
	}{
		{0, 0xd1d293a7b316019f},
		{1, 0x7f03acb2b7d8724d},
		{2, 0x33c2076d5720aae9},
		{3, 0x20d035640a15c225},
		{4, 0xe931102e334be292},
		{5, 0x20d358fdb1044a2a},
		{7, 0x084221ff37230699},
		{8, 0x92b43946a8e9ca48},
		{9, 0xcd3e3b8355481ad2},
		{15, 0x31296df17571e3e1},
		{16, 0x837c62a34d5a67fb},
		{17, 0x473f8062ef07ba38},
		{31, 0xaca3aa915782aca0},
		{32, 0xa1ac4d2eab81f397},
		{33, 0xab0829aea3e4e081},
		{100, 0xaf10ffa9db8ed28e},
	}
	for _, tt := range tests {
		b := make([]byte, tt.n)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		if got := hash64(b); got != tt.want {
			t.Errorf("hash64(%d bytes) = %#016x, want %#016x", tt.n, got, tt.want)
		}
	}
	if got := hash64([]byte("hello world")); got != 0xaafb2f8d45718101 {
		t.Errorf("hash64(hello world) = %#016x", got)
	}
}

func TestHashDistinct(t *testing.T) {
	// Inputs that differ in one byte, in length only, or in zero padding must hash apart.
	seen := make(map[uint64]string)
	add := func(b []byte) {
		h := hash64(b)
		if prev, ok := seen[h]; ok && prev != string(b) {
			t.Fatalf("collision: %q and %q", prev, b)
		}
		seen[h] = string(b)
	}
	for n := 0; n <= 40; n++ {
		add(make([]byte, n)) // all zeros, every length
	}
	for i := 0; i < 200000; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		add(b[:])
		add([]byte(fmt.Sprintf("user:%d", i)))
	}
}

func TestHashAvalanche(t *testing.T) {
	// Flipping one input bit flips about half of the output bits.
	for _, n := range []int{3, 8, 16, 24} {
		total, count := 0, 0
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 31)
		}
		h0 := hash64(b)
		for bit := 0; bit < n*8; bit++ {
			b[bit/8] ^= 1 << (bit % 8)
			total += bits.OnesCount64(h0 ^ hash64(b))
			count++
			b[bit/8] ^= 1 << (bit % 8)
		}
		if avg := float64(total) / float64(count); avg < 28 || avg > 36 {
			t.Errorf("%d-byte input: a one-bit change flips %.1f output bits on average", n, avg)
		}
	}
}

func BenchmarkHash64(b *testing.B) {
	key := []byte("0123456789abcdef")
	b.SetBytes(int64(len(key)))
	var sink uint64
	for b.Loop() {
		sink += hash64(key)
	}
	_ = sink
}
