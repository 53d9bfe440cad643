package isledb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestReaderPrefetchOnRefresh: a Refresh that finds new SSTs prefetches them in the
// background (PrefetchOnRefreshBytes, on in DefaultReaderOpenOptions): once the prefetch
// is done, Gets of the fresh keys send no request, whether the SSTs are downloaded whole
// or read by range (and then filled). With it off (0), the first Gets go to the bucket.
func TestReaderPrefetchOnRefresh(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		for _, tc := range []struct {
			name     string
			rangeMin int64 // RangeReadMinSSTSize
			budget   int64 // PrefetchOnRefreshBytes
		}{
			{"whole", 0, isledb.DefaultPrefetchOnRefreshBytes},
			{"range", fillTestRangeMin, isledb.DefaultPrefetchOnRefreshBytes},
			{"off", 0, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				store := b.Open(t)
				old := writeSSTs(t, store, 1, 128<<10)
				ropts := isledb.DefaultReaderOpenOptions()
				ropts.CacheDir = t.TempDir()
				ropts.BlockCacheSize = 0
				ropts.PrefetchOnRefreshBytes = tc.budget
				if tc.rangeMin > 0 {
					ropts.RangeReadMinSSTSize = tc.rangeMin
				}
				r, err := isledb.OpenReader(ctx, store, ropts)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = r.Close() }()
				getAll(t, r, old[:1])
				fresh := writeSSTs(t, store, 2, 192<<10) // keys k0000-*, k0001-*: new values
				if err := r.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				if err := r.WaitForPrefetch(ctx); err != nil {
					t.Fatal(err)
				}
				r.WaitSSTFillsForTest()
				before := store.Stats()
				getAll(t, r, fresh)
				d := store.Stats().Sub(before)
				s := r.SSTCacheStats()
				if tc.budget == 0 {
					if d.Gets+d.RangedGets == 0 || s.RefreshPrefetches != 0 {
						t.Fatalf("without prefetch: Gets of fresh keys sent %v, %d prefetches; want requests, none", d, s.RefreshPrefetches)
					}
					return
				}
				if d.Requests() != 0 || s.RefreshPrefetches != 2 {
					t.Fatal(fmt.Sprintf("after the prefetch: %d Gets of fresh keys sent %v; %d prefetches, want no request and 2 (stats %v)", len(fresh), d, s.RefreshPrefetches, s))
				}
			})
		}
	})
}
