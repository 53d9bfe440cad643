package manifest

import (
	"fmt"
	"testing"

	"github.com/isledb/isledb/internal/testutil"
)

// TestWriterHistory: each writer claim that supersedes a writer records that writer's
// epoch and the manifest's largest sequence number at that moment; the history survives
// snapshots and replays, and keeps only the newest MaxWriterHistory tenures.
func TestWriterHistory(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		want := map[uint64]uint64{} // epoch -> end seq
		var order []uint64
		var prev uint64
		n := MaxWriterHistory + 6
		if b.Name != "memory" {
			n = 8
		}
		for i := range uint64(n) {
			s, _ := k.store(fastOpts(3))
			tok, err := s.ClaimWriter(ctx, fmt.Sprint("w", i))
			if err != nil {
				t.Fatal(err)
			}
			if prev != 0 {
				want[prev] = i * 10 // the SSTs so far end at sequence number 10*i
				order = append(order, prev)
			}
			if _, err := s.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint("sst-", i), i)); err != nil {
				t.Fatal(err)
			}
			// A claim of the compactor role records nothing.
			if _, err := s.ClaimCompactor(ctx, "c"); err != nil {
				t.Fatal(err)
			}
			prev = tok.Epoch
		}
		r, _ := k.store(StoreOptions{})
		m, err := r.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Check(); err != nil {
			t.Fatal(err)
		}
		kept := order[max(0, len(order)-MaxWriterHistory):]
		if len(m.WriterHistory) != len(kept) {
			t.Fatalf("history holds %d tenures, want %d", len(m.WriterHistory), len(kept))
		}
		for i, epoch := range kept {
			if got := m.WriterHistory[i]; got.Epoch != epoch || got.EndSeq != want[epoch] {
				t.Errorf("tenure %d = %+v, want epoch %d end %d", i, got, epoch, want[epoch])
			}
			if got, ok := m.WriterTenure(epoch); !ok || got.EndSeq != want[epoch] {
				t.Errorf("WriterTenure(%d) = %+v, %v", epoch, got, ok)
			}
		}
		if len(order) > len(kept) {
			if _, ok := m.WriterTenure(order[0]); ok {
				t.Errorf("the oldest tenure is still recorded past the limit")
			}
		}
	})
}
