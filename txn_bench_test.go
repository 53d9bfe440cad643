package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// BenchmarkTxnCommit measures read-modify-write transactions (Get then Put of one key,
// Commit) from parallel goroutines, where a share of them (0%, 10%, 50%) use one hot key
// and so conflict with each other; the rest use keys of their own. It reports commits and
// conflicts per transaction attempted. No WAL; memory store.
func BenchmarkTxnCommit(b *testing.B) {
	for _, hot := range []int{0, 10, 50} {
		b.Run(fmt.Sprintf("conflicting=%d%%", hot), func(b *testing.B) {
			ctx := context.Background()
			db, err := isledb.OpenDB(ctx, blobstore.NewMemory("bench"), isledb.DBOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			opts := isledb.DefaultWriterOptions()
			opts.FlushInterval = -1
			opts.MemtableSize = 1 << 30
			w, err := db.OpenWriter(ctx, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			if x, err := w.Begin(ctx); err == nil { // the first Begin flushes once
				_ = x.Rollback()
			}
			var commits, conflicts, next atomic.Int64
			value := make([]byte, 100)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(uint64(next.Add(1)), 7))
				for pb.Next() {
					key := []byte("hot")
					if rng.IntN(100) >= hot {
						key = fmt.Appendf(nil, "key-%012d", next.Add(1))
					}
					x, err := w.Begin(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					_, _, err = x.Get(ctx, key)
					if err == nil {
						_ = x.Put(key, value)
						err = x.Commit(ctx)
					}
					_ = x.Rollback()
					switch {
					case err == nil:
						commits.Add(1)
					case errors.Is(err, isledb.ErrConflict):
						conflicts.Add(1)
					default:
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			n := float64(commits.Load() + conflicts.Load())
			b.ReportMetric(float64(commits.Load())/n, "commits/txn")
			b.ReportMetric(float64(conflicts.Load())/n, "conflicts/txn")
		})
	}
}
