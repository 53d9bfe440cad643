package isledb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// BenchmarkBatchVsPut compares writes made one Put at a time with the same writes applied
// in batches, with no WAL and with a WAL in strict mode (an fsync per acknowledgement).
// Each op is one write; the figure that matters is ns/op between the variants of one run.
func BenchmarkBatchVsPut(b *testing.B) {
	value := make([]byte, 100)
	for _, withWAL := range []bool{false, true} {
		for _, size := range []int{1, 10, 100, 1000} {
			name := fmt.Sprintf("wal=%v/batch=%d", withWAL, size)
			if size == 1 {
				name = fmt.Sprintf("wal=%v/put", withWAL)
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				db, err := isledb.OpenDB(ctx, blobstore.NewMemory("bench"), isledb.DBOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				opts := isledb.DefaultWriterOptions()
				opts.FlushInterval = -1
				opts.MemtableSize = 1 << 30 // no flush inside the timed loop
				if withWAL {
					opts.WALDir = b.TempDir()
				}
				w, err := db.OpenWriter(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				batch := w.NewBatch()
				key := make([]byte, 0, 16)
				b.SetBytes(int64(16 + len(value)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					key = fmt.Appendf(key[:0], "key-%012d", i)
					if size == 1 {
						if err := w.Put(key, value); err != nil {
							b.Fatal(err)
						}
						continue
					}
					batch.Put(key, value)
					if batch.Len() == size || i == b.N-1 {
						if err := w.Apply(ctx, batch); err != nil {
							b.Fatal(err)
						}
						batch.Reset()
					}
				}
				b.StopTimer()
			})
		}
	}
}
