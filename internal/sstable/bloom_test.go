package sstable

import (
	"fmt"
	"testing"
)

func TestBloomNoFalseNegatives(t *testing.T) {
	for _, n := range []int{1, 10, 1000, 20000} {
		for _, bpk := range []int{1, 4, 10, 20} {
			hashes := make([]uint64, n)
			for i := range hashes {
				hashes[i] = hash64([]byte(fmt.Sprintf("key-%d", i)))
			}
			f, err := decodeBloom(buildBloom(hashes, bpk))
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hashes {
				if !f.mayContain(h) {
					t.Fatalf("n=%d bpk=%d: key %d missing", n, bpk, i)
				}
			}
		}
	}
}

func TestBloomFalsePositiveRate(t *testing.T) {
	const n = 50000
	tests := []struct {
		bpk     int
		maxRate float64
	}{
		{4, 0.20},
		{10, 0.015},
		{20, 0.003}, // blocked filters gain less from more bits than classic ones
	}
	for _, tt := range tests {
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = hash64([]byte(fmt.Sprintf("present-%d", i)))
		}
		f, err := decodeBloom(buildBloom(hashes, tt.bpk))
		if err != nil {
			t.Fatal(err)
		}
		fp := 0
		for i := 0; i < n; i++ {
			if f.mayContain(hash64([]byte(fmt.Sprintf("absent-%d", i)))) {
				fp++
			}
		}
		rate := float64(fp) / n
		t.Logf("%d bits/key, %d probes: false positive rate %.4f", tt.bpk, f.probes, rate)
		if rate > tt.maxRate {
			t.Errorf("%d bits/key: false positive rate %.4f above %.4f", tt.bpk, rate, tt.maxRate)
		}
	}
}

func TestBloomDecodeErrors(t *testing.T) {
	good := buildBloom([]uint64{1, 2, 3}, 10)
	tests := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"too short", func(b []byte) []byte { return b[:3] }},
		{"bad kind", func(b []byte) []byte { b[len(b)-1] = 9; return b }},
		{"zero probes", func(b []byte) []byte { b[len(b)-2] = 0; return b }},
		{"too many probes", func(b []byte) []byte { b[len(b)-2] = 31; return b }},
		{"lines mismatch", func(b []byte) []byte { b[len(b)-6]++; return b }},
		{"zero lines", func(b []byte) []byte { return b[64:] }},
	}
	for _, tt := range tests {
		b := tt.edit(append([]byte(nil), good...))
		if _, err := decodeBloom(b); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	var none bloomFilter
	if !none.mayContain(42) {
		t.Error("the empty filter must not exclude anything")
	}
	if bloomProbes(0) != 1 || bloomProbes(10) != 6 || bloomProbes(100) != 30 {
		t.Error("bloomProbes")
	}
}

func BenchmarkBloomMayContain(b *testing.B) {
	hashes := make([]uint64, 100000)
	for i := range hashes {
		hashes[i] = hash64([]byte(fmt.Sprintf("k%d", i)))
	}
	f, _ := decodeBloom(buildBloom(hashes, 10))
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		if f.mayContain(uint64(i) * 0x9e3779b97f4a7c15) {
			n++
		}
	}
	_ = n
}
