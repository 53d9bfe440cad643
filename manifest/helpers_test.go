package manifest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

var ctx = context.Background()

// bucket hands out handles on one prefix of a backend: every handle sees the same objects
// but counts its own requests.
type bucket struct {
	t      testing.TB
	b      testutil.Backend
	prefix string
	first  *blobstore.Store
}

func newBucket(t testing.TB, b testutil.Backend) *bucket {
	t.Helper()
	prefix := testutil.UniquePrefix(t)
	return &bucket{t: t, b: b, prefix: prefix, first: b.OpenPrefix(t, prefix)}
}

// handle returns a new Store handle on the bucket's objects.
func (k *bucket) handle() *blobstore.Store {
	if k.b.Name == "memory" {
		// Memory stores never share objects; a second handle over the same backend does.
		return blobstore.NewWithBackend(k.first.Backend(), k.first.BucketName(), k.first.Prefix())
	}
	return k.b.OpenPrefix(k.t, k.prefix)
}

// store returns a manifest Store over a new handle.
func (k *bucket) store(opts StoreOptions) (*Store, *blobstore.Store) {
	k.t.Helper()
	h := k.handle()
	s, err := NewStoreWithOptions(NewBlobStorage(h), opts)
	if err != nil {
		k.t.Fatal(err)
	}
	return s, h
}

// fastOpts are options for tests that exercise snapshots and pruning: snapshot often,
// prune at once.
func fastOpts(every int) StoreOptions {
	return StoreOptions{SnapshotEvery: every, PruneGrace: -1}
}

// testSST returns valid metadata for an L0 SST named id, with contents derived from n.
func testSST(id string, n uint64) SSTMeta {
	return SSTMeta{
		ID: id, Epoch: 1, SeqLo: n*10 + 1, SeqHi: n*10 + 10,
		MinKey: fmt.Appendf(nil, "k%06d", n), MaxKey: fmt.Appendf(nil, "k%06d~", n),
		Size:      int64(1000 + n),
		Checksum:  fmt.Sprintf("sha256:%064x", n+1),
		Bloom:     BloomMeta{BitsPerKey: 10, HashCount: 6, Keys: 100 + n, Size: 128},
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, int(n), time.UTC), EntryCount: 100 + n,
	}
}

// runSST returns valid metadata for a run SST covering keys [lo, hi].
func runSST(id string, lo, hi int) SSTMeta {
	s := testSST(id, uint64(lo))
	s.MinKey = fmt.Appendf(nil, "k%06d", lo)
	s.MaxKey = fmt.Appendf(nil, "k%06d", hi)
	s.Level = 1
	return s
}

// mustEqual fails unless two manifests describe the same state.
func mustEqual(t testing.TB, what string, got, want *Manifest) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s: manifests differ\ngot:  %s\nwant: %s", what, describe(got), describe(want))
	}
}

// describe formats a manifest compactly for failure messages.
func describe(m *Manifest) string {
	if m == nil {
		return "<nil>"
	}
	s := fmt.Sprintf("seq=%d chain=%016x nextEpoch=%d nextRun=%d writer=%v compactor=%v L0=[",
		m.LogSeq, m.chain, m.NextEpoch, m.NextSortedRunID, fenceStr(m.WriterFence), fenceStr(m.CompactorFence))
	for i, x := range m.L0SSTs {
		if i > 0 {
			s += " "
		}
		s += x.ID
	}
	s += "] runs=["
	for i, r := range m.SortedRuns {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:", r.ID)
		for j, x := range r.SSTs {
			if j > 0 {
				s += ","
			}
			s += x.ID
		}
	}
	return s + "]"
}

func fenceStr(f *FenceToken) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%s@%d", f.Owner, f.Epoch)
}

// seeds returns how many random seeds a test runs on backend b: n on memory, fewer on
// slower backends, and fewer again with -short.
func seeds(b testutil.Backend, n int) int {
	switch {
	case b.Server:
		n = max(n/10, 20)
	case b.Name == "file":
		n = max(n/5, 20)
	}
	if testing.Short() {
		n = max(n/5, 5)
	}
	return n
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
