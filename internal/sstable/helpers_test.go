package sstable

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isledb/isledb/internal/base"
)

// fixedTime is the creation time of every test file, so that output is reproducible.
var fixedTime = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)

// build writes entries (which must be sorted) into an SST and returns its bytes.
func build(t testing.TB, entries []Entry, opts WriterOptions) ([]byte, *Metadata) {
	t.Helper()
	if opts.CreationTime.IsZero() {
		opts.CreationTime = fixedTime
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := w.Add(e); err != nil {
			t.Fatalf("Add(%q#%d): %v", e.Key, e.Seq, err)
		}
	}
	m, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != int64(buf.Len()) {
		t.Fatalf("Metadata.Size %d, wrote %d", m.Size, buf.Len())
	}
	return buf.Bytes(), m
}

// sortEntries sorts entries in internal order.
func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		return base.CompareInternal(es[i].Key, es[i].Seq, es[j].Key, es[j].Seq) < 0
	})
}

// newSeed returns a random seed and logs it, so that a failure can be replayed by setting
// the seed by hand.
func newSeed(t testing.TB) uint64 {
	seed := rand.Uint64()
	t.Logf("seed: %d", seed)
	return seed
}

// randomEntries returns n sorted entries with several versions per key, all kinds, some
// expiries and values of mixed sizes.
func randomEntries(rng *rand.Rand, n int) []Entry {
	var es []Entry
	seq := base.SeqNum(n * 4)
	for len(es) < n {
		key := []byte(fmt.Sprintf("key-%08d-%s", rng.IntN(n*10), bytes.Repeat([]byte{'x'}, rng.IntN(20))))
		versions := 1
		if rng.IntN(5) == 0 {
			versions += rng.IntN(4)
		}
		for v := 0; v < versions; v++ {
			e := Entry{Key: key, Seq: seq, Kind: base.KindValue}
			seq--
			switch rng.IntN(10) {
			case 0:
				e.Kind = base.KindDelete
			case 1:
				e.Kind = base.KindBlobRef
				e.Value = []byte(fmt.Sprintf("blob:%064x:%d", rng.Uint64(), rng.IntN(1<<20)))
			default:
				e.Value = make([]byte, rng.IntN(300))
				for i := range e.Value {
					e.Value[i] = byte('a' + rng.IntN(4))
				}
			}
			if rng.IntN(8) == 0 {
				e.Expiry = 1 + rng.Int64N(1<<62)
			}
			es = append(es, e)
		}
	}
	sortEntries(es)
	// Drop duplicate (key, seq) pairs, which random keys can produce.
	out := es[:0]
	for i, e := range es {
		if i > 0 && bytes.Equal(e.Key, es[i-1].Key) && e.Seq == es[i-1].Seq {
			continue
		}
		out = append(out, e)
	}
	return out
}

// countingSource counts the reads issued to a Source.
type countingSource struct {
	Source
	reads atomic.Int64
	bytes atomic.Int64
}

func (c *countingSource) ReadAt(ctx context.Context, p []byte, off int64) error {
	c.reads.Add(1)
	c.bytes.Add(int64(len(p)))
	return c.Source.ReadAt(ctx, p, off)
}

// remote wraps data in a Source that is not a BytesSource, so that the Reader treats it as
// a bucket object read by range.
func remote(data []byte) *countingSource { return &countingSource{Source: BytesSource(data)} }

// equalEntry compares two entries field by field (nil and empty values are equal).
func equalEntry(a, b Entry) bool {
	return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) && a.Seq == b.Seq && a.Kind == b.Kind && a.Expiry == b.Expiry
}

// collect returns every entry the iterator yields from First.
func collect(t testing.TB, it *Iterator) []Entry {
	t.Helper()
	var out []Entry
	for ok := it.First(); ok; ok = it.Next() {
		e := it.Entry()
		e.Key = append([]byte(nil), e.Key...)
		out = append(out, e)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
