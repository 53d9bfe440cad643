package manifest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
)

// errPermanent is an injected failure the blob store does not retry.
var errPermanent = errors.New("injected permanent failure")

// faultScenario drives a writer and compactor through claims, adds, a compaction, a
// removal and a snapshot, retrying each step as an engine would until it is known to have
// happened. It returns the final replay.
func faultScenario(t *testing.T, bs *blobstore.Store, retry bool) (*Manifest, error) {
	t.Helper()
	s, err := NewStoreWithOptions(NewBlobStorage(bs), StoreOptions{SnapshotEvery: 4, DisableAutoPrune: true})
	if err != nil {
		return nil, err
	}
	do := func(what string, op func() error, done func(error) bool) error {
		for attempt := 0; ; attempt++ {
			err := op()
			if err == nil || (retry && done != nil && done(err)) {
				return nil
			}
			if !retry || attempt == 10 {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	if err := do("claim writer", func() error { _, err := s.ClaimWriter(ctx, "w"); return err }, nil); err != nil {
		return nil, err
	}
	for i := range 3 {
		sst := testSST(fmt.Sprint(i), uint64(i))
		err := do("add", func() error { _, err := s.AppendAddSSTableWithFence(ctx, sst); return err },
			func(err error) bool { return errors.Is(err, ErrSSTExists) }) // an earlier attempt landed
		if err != nil {
			return nil, err
		}
	}
	if err := do("claim compactor", func() error { _, err := s.ClaimCompactor(ctx, "c"); return err }, nil); err != nil {
		return nil, err
	}
	out := &SortedRun{ID: 1, SSTs: []SSTMeta{runSST("r", 0, 9)}}
	err = do("compaction", func() error {
		_, err := s.AppendCompactionWithFence(ctx, CompactionLogPayload{RemoveL0SSTs: []string{"0", "1"}, OutputRun: out})
		return err
	}, func(error) bool { m, err := s.Replay(ctx); return err == nil && m.LookupSST("r") != nil })
	if err != nil {
		return nil, err
	}
	err = do("remove", func() error { _, err := s.AppendRemoveSSTablesWithFence(ctx, []string{"2"}); return err },
		func(error) bool { m, err := s.Replay(ctx); return err == nil && m.LookupSST("2") == nil })
	if err != nil {
		return nil, err
	}
	if err := do("snapshot", func() error { _, err := s.WriteSnapshot(ctx, s.Current()); return err }, nil); err != nil {
		return nil, err
	}
	var m *Manifest
	err = do("replay", func() error { var err error; m, err = s.Replay(ctx); return err }, nil)
	return m, err
}

// checkFaultResult checks the scenario's outcome and that the log holds every step once.
func checkFaultResult(t *testing.T, what string, bs *blobstore.Store, m *Manifest) {
	t.Helper()
	if !slices.Equal(l0IDs(m), nil) || len(m.SortedRuns) != 1 || m.SortedRuns[0].SSTs[0].ID != "r" {
		t.Fatalf("%s: final state %s", what, describe(m))
	}
	st := NewBlobStorage(blobstore.NewWithBackend(bs.Backend(), "", bs.Prefix()))
	seqs, err := st.ListLogEntries(ctx, ^Seq(0))
	if err != nil {
		t.Fatal(err)
	}
	adds := map[string]int{}
	kinds := map[EntryKind]int{}
	for _, seq := range seqs {
		data, err := st.ReadLogEntry(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		e, err := DecodeLogEntry("", data)
		if err != nil {
			t.Fatal(err)
		}
		kinds[e.Kind]++
		if e.Kind == EntryAddSST {
			adds[e.SST.ID]++
		}
	}
	for id, n := range adds {
		if n != 1 {
			t.Fatalf("%s: SST %s added %d times", what, id, n)
		}
	}
	if kinds[EntryAddSST] != 3 || kinds[EntryCompaction] != 1 || kinds[EntryRemoveSSTs] != 1 || int(m.LogSeq) != len(seqs) {
		t.Fatalf("%s: log holds %v in %d entries (replay at %d)", what, kinds, len(seqs), m.LogSeq)
	}
}

// TestFaultEachRequest fails the i-th request of the scenario once, for every i, with a
// transient error (the blob store retries it: everything must succeed as if nothing
// happened) and with a permanent one (the step fails; retrying it must neither lose an
// acknowledged entry nor duplicate one).
func TestFaultEachRequest(t *testing.T) {
	for _, permanent := range []bool{false, true} {
		t.Run(fmt.Sprintf("permanent=%v", permanent), func(t *testing.T) {
			var injectedAt int
			for i := int64(0); ; i++ {
				bs, fb := faultstore.NewMemoryStore("db")
				var err error
				if permanent {
					fb.FailNth(i, errPermanent)
				} else {
					fb.FailNth(i, nil)
				}
				m, err := faultScenario(t, bs, permanent)
				if err != nil {
					t.Fatalf("request %d failed: %v", i, err)
				}
				fired := fb.Requests() > i
				fb.Clear()
				checkFaultResult(t, fmt.Sprintf("request %d", i), bs, m)
				if !fired { // the scenario ended before the failure
					injectedAt = int(i)
					break
				}
			}
			t.Logf("failed each of %d requests in turn", injectedAt)
		})
	}
}

// TestFaultLostReplies lets every manifest write land and then lose its reply (an
// ambiguous success), some of them or all: nothing is duplicated or lost.
func TestFaultLostReplies(t *testing.T) {
	for _, times := range []int64{1, 3, -1} {
		bs, fb := faultstore.NewMemoryStore("db")
		fb.LoseReply(faultstore.PutsTo("manifest/"), times)
		m, err := faultScenario(t, bs, false)
		if err != nil {
			t.Fatalf("times=%d: %v", times, err)
		}
		checkFaultResult(t, fmt.Sprintf("times=%d", times), bs, m)
	}
	// Reads failing around writes too: lost replies plus every 3rd GET failing once.
	bs, fb := faultstore.NewMemoryStore("db")
	fb.LoseReply(faultstore.PutsTo("manifest/log/"), -1)
	n := 0
	fb.FailIf(func(r faultstore.Request) bool { n++; return r.Op == faultstore.OpGet && n%3 == 0 }, -1, nil)
	m, err := faultScenario(t, bs, false)
	if err != nil {
		t.Fatal(err)
	}
	checkFaultResult(t, "lost replies and failing reads", bs, m)
}
