package manifest

import (
	"fmt"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// BenchmarkAppend measures one AppendAddSSTableWithFence (a conditional PUT, plus a LIST
// and a snapshot every 100 entries) on each backend; with ISLEDB_TEST_S3_ENDPOINT set,
// on MinIO too.
func BenchmarkAppend(b *testing.B) {
	for _, be := range testutil.Backends(testutil.Core) {
		b.Run(be.Name, func(b *testing.B) {
			k := newBucket(b, be)
			s, h := k.store(StoreOptions{})
			if _, err := s.ClaimWriter(ctx, "w"); err != nil {
				b.Fatal(err)
			}
			before := h.Stats()
			i := 0
			for b.Loop() {
				i++
				if _, err := s.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprint(i), uint64(i))); err != nil {
					b.Fatal(err)
				}
				if i%50 == 0 { // keep L0 small, as compaction would
					m := s.Current()
					ids := m.AllSSTIDs()
					if _, err := s.AppendRemoveSSTablesWithFence(ctx, ids[len(ids)-40:]); err != nil {
						b.Fatal(err)
					}
				}
			}
			d := h.Stats().Sub(before)
			b.ReportMetric(float64(d.Requests())/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkReplayFromQuiet measures a reader's poll of a log with nothing new.
func BenchmarkReplayFromQuiet(b *testing.B) {
	for _, be := range testutil.Backends(testutil.Core) {
		b.Run(be.Name, func(b *testing.B) {
			k := newBucket(b, be)
			w, _ := k.store(StoreOptions{})
			if _, err := w.ClaimWriter(ctx, "w"); err != nil {
				b.Fatal(err)
			}
			r, _ := k.store(StoreOptions{})
			m, err := r.Replay(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if m, err = r.ReplayFrom(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplay measures a replay of a 1,000-entry log without a snapshot (memory).
func BenchmarkReplay(b *testing.B) {
	bs, _ := buildLog(b, 1000)
	for b.Loop() {
		if _, err := NewStore(blobstore.NewWithBackend(bs.Backend(), "", bs.Prefix())).Replay(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// bigManifest returns a manifest of n SSTs: 100 in L0, the rest in runs of 1,000.
func bigManifest(n int) *Manifest {
	m := newManifest()
	m.LogSeq, m.chain = 1, 1
	m.WriterFence = &FenceToken{Epoch: 1, Owner: "w", ClaimedAt: goldenTime}
	sig := &SSTSignature{Algorithm: "ed25519", KeyID: "k", Hash: fixtureSST().Checksum, Signature: make([]byte, 64)}
	for i := range n {
		s := testSST(fmt.Sprintf("%020d-%016x", i, i*7919), uint64(i))
		s.MinKey = fmt.Appendf(nil, "user/%012d/a", i)
		s.MaxKey = fmt.Appendf(nil, "user/%012d/z", i)
		s.Signature = sig
		if i < 100 {
			m.L0SSTs = append(m.L0SSTs, s)
			continue
		}
		if (i-100)%1000 == 0 {
			m.SortedRuns = append(m.SortedRuns, SortedRun{ID: uint32(len(m.SortedRuns) + 1)})
		}
		r := &m.SortedRuns[len(m.SortedRuns)-1]
		r.SSTs = append(r.SSTs, s)
	}
	return m
}

// BenchmarkSnapshot100k encodes and decodes a snapshot of 100,000 SSTs.
func BenchmarkSnapshot100k(b *testing.B) {
	m := bigManifest(100_000)
	data := encodeSnapshot(m)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			encodeSnapshot(m)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := DecodeSnapshot("s", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(len(data))/100_000, "bytes/sst")
}
