package sstable

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestParseCompression(t *testing.T) {
	tests := []struct {
		name string
		want Compression
		ok   bool
	}{
		{"", CompressionSnappy, true},
		{"none", CompressionNone, true},
		{"snappy", CompressionSnappy, true},
		{"zstd", CompressionZstd, true},
		{"lz4", CompressionLZ4, true},
		{"ZSTD", 0, false},
		{"gzip", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseCompression(tt.name)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseCompression(%q) = %v, %v", tt.name, got, err)
		}
		if !tt.ok && !errors.Is(err, ErrUnknownCompression) {
			t.Errorf("ParseCompression(%q) error %v does not wrap ErrUnknownCompression", tt.name, err)
		}
		if tt.ok && tt.name != "" && got.String() != tt.name {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	// The numbers are block type bytes on disk.
	if CompressionNone != 0 || CompressionSnappy != 1 || CompressionZstd != 2 || CompressionLZ4 != 3 {
		t.Fatal("frozen compression numbers changed")
	}
	if Compression(9).String() != "compression(9)" {
		t.Error(Compression(9).String())
	}
}

func TestCompressionRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	random := make([]byte, 8192)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 200)
	half := make([]byte, 8192) // half random, half constant
	copy(half, random[:4096])
	for _, c := range []Compression{CompressionSnappy, CompressionZstd, CompressionLZ4} {
		t.Run(c.String(), func(t *testing.T) {
			for _, in := range [][]byte{text, half, []byte("a"), bytes.Repeat([]byte{0}, 1<<20)} {
				payload, ok := compressBlock(c, nil, in)
				if len(in) < 64 {
					if ok {
						t.Errorf("%d bytes: tiny input stored compressed", len(in))
					}
					continue
				}
				if !ok {
					t.Fatalf("%d compressible bytes not compressed", len(in))
				}
				if len(payload) > len(in)-len(in)/8 {
					t.Fatalf("payload %d of %d bytes saves less than 1/8", len(payload), len(in))
				}
				out, err := decompressBlock(c, payload)
				if err != nil || !bytes.Equal(out, in) {
					t.Fatalf("round trip of %d bytes: %v", len(in), err)
				}
			}
			if _, ok := compressBlock(c, nil, random); ok {
				t.Error("random bytes stored compressed")
			}
			// Reusing the destination buffer works.
			buf := make([]byte, 0, 16)
			p1, _ := compressBlock(c, buf, text)
			p1 = append([]byte(nil), p1...)
			p2, _ := compressBlock(c, p1[:0], text)
			if !bytes.Equal(p1, p2) {
				t.Error("output depends on the buffer")
			}
		})
	}
	if _, ok := compressBlock(CompressionNone, nil, text); ok {
		t.Error("none compressed")
	}
}

func TestDecompressErrors(t *testing.T) {
	text := bytes.Repeat([]byte("abcdefgh"), 100)
	for _, c := range []Compression{CompressionSnappy, CompressionZstd, CompressionLZ4} {
		payload, _ := compressBlock(c, nil, text)
		bad := map[string][]byte{
			"empty":          {},
			"bad varint":     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			"huge length":    {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3},
			"length too big": append([]byte{0x90, 0x07}, payload[2:]...), // 912 instead of 800
			"length small":   append([]byte{0x80, 0x05}, payload[2:]...), // 640 instead of 800
			"truncated":      payload[:len(payload)/2],
			"garbage":        append(append([]byte(nil), payload[:2]...), bytes.Repeat([]byte{0xee}, 40)...),
		}
		for name, p := range bad {
			if _, err := decompressBlock(c, p); err == nil {
				t.Errorf("%s/%s: accepted", c, name)
			}
		}
	}
	if _, err := decompressBlock(Compression(7), []byte{1, 0}); err == nil {
		t.Error("unknown type accepted")
	}
}

func BenchmarkCompressBlock(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	block := make([]byte, 4096)
	for i := range block {
		if i%2 == 0 {
			block[i] = byte(rng.Uint32())
		} else {
			block[i] = 'x'
		}
	}
	for _, c := range []Compression{CompressionSnappy, CompressionZstd, CompressionLZ4} {
		b.Run(c.String(), func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(len(block)))
			for b.Loop() {
				buf, _ = compressBlock(c, buf, block)
			}
		})
	}
}
