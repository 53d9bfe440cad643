package kv_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/isledb/isledb/kv"
)

// BenchmarkScan100 measures 100-key range scans (ScanRange from a random key, stopped after
// 100 keys) over 200,000 keys of 100-byte values, with the data flushed to SSTs ("flushed")
// or still in the memtables ("unflushed").
func BenchmarkScan100(b *testing.B) {
	for _, flushed := range []bool{true, false} {
		name := "unflushed"
		if flushed {
			name = "flushed"
		}
		b.Run(name, func(b *testing.B) {
			const keys = 200_000
			o := kv.DefaultOptions(b.TempDir())
			o.WALSyncMode = kv.WALSyncNone
			o.MemtableSize = 64 << 20
			o.FlushInterval = -1
			s, err := kv.Open(o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			value := make([]byte, 100)
			for i := range keys {
				if err := s.PutBytes(fmt.Appendf(nil, "key-%011d", i), value); err != nil {
					b.Fatal(err)
				}
			}
			if flushed {
				if err := s.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			for range b.N {
				n := 0
				start := fmt.Appendf(nil, "key-%011d", rng.IntN(keys-100))
				err := s.ScanRange(start, nil, func(k []byte, v kv.Value) bool {
					n++
					return n < 100
				})
				if err != nil || n != 100 {
					b.Fatalf("scan: %d keys, %v", n, err)
				}
			}
		})
	}
}
