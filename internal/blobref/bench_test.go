package blobref

import (
	"fmt"
	"testing"
)

// BenchmarkVerify measures Ref.Verify, that is the SHA-256 of a blob: the cost a reader
// pays to check a cached blob against its reference before returning it (see
// config.BlobReadOptions). Compare with diskcache's BenchmarkReadAllSizes, the cost of
// reading the cached blob itself.
func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			v := make([]byte, size)
			for i := range v {
				v[i] = byte(i * 7)
			}
			r := Of(v)
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := r.Verify(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
