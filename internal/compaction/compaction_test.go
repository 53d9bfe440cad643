package compaction

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/faultstore"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// writeSST stores entries (in internal order) as SST id and returns its metadata.
func writeSST(t testing.TB, store *blobstore.Store, id string, entries []sstable.Entry, opts sstable.WriterOptions) manifest.SSTMeta {
	t.Helper()
	var buf bytes.Buffer
	w, err := sstable.NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := w.Add(e); err != nil {
			t.Fatalf("add %q#%d: %v", e.Key, e.Seq, err)
		}
	}
	md, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(context.Background(), store.SSTPath(id), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	m := MetaOf(md, id, 1, 1)
	m.Level = 0
	return m
}

// readSST returns every entry of an SST.
func readSST(t testing.TB, store *blobstore.Store, id string) []sstable.Entry {
	t.Helper()
	data, _, err := store.Read(context.Background(), store.SSTPath(id))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sstable.OpenBytes(data, sstable.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []sstable.Entry
	it := r.NewIter(context.Background(), sstable.IterOptions{})
	for ok := it.First(); ok; ok = it.Next() {
		e := it.Entry()
		e.Key, e.Value = bytes.Clone(e.Key), bytes.Clone(e.Value)
		out = append(out, e)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sst(id string, lo, hi string, size int64) manifest.SSTMeta {
	return manifest.SSTMeta{ID: id, MinKey: []byte(lo), MaxKey: []byte(hi), Size: size}
}

func run(id uint32, ssts ...manifest.SSTMeta) manifest.SortedRun {
	return manifest.SortedRun{ID: id, SSTs: ssts}
}

func TestPickL0(t *testing.T) {
	m := &manifest.Manifest{L0SSTs: []manifest.SSTMeta{sst("c", "a", "m", 1), sst("b", "b", "c", 1), sst("a", "x", "z", 1)}}
	if p := PickL0(m, 4, 64); p != nil {
		t.Fatalf("below threshold: %+v", p)
	}
	p := PickL0(m, 3, 64)
	if p == nil || !slices.Equal(p.L0IDs(), []string{"c", "b", "a"}) || !p.Bottom {
		t.Fatalf("PickL0 = %+v", p)
	}
	p = PickL0(m, 2, 2)
	if !slices.Equal(p.L0IDs(), []string{"b", "a"}) {
		t.Fatalf("capped: want the two oldest, got %v", p.L0IDs())
	}
	// A run overlapping the inputs' range: not the bottom.
	m.SortedRuns = []manifest.SortedRun{run(1, sst("r1", "d", "e", 1))}
	if p := PickL0(m, 3, 64); p.Bottom {
		t.Fatal("a run holding older versions of the range: Bottom must be false")
	}
	// A run beside the range: still the bottom.
	m.SortedRuns = []manifest.SortedRun{run(1, sst("r1", "zz", "zzz", 1))}
	if p := PickL0(m, 3, 64); !p.Bottom {
		t.Fatal("no older SST in the range: Bottom must be true")
	}
}

func TestPickRuns(t *testing.T) {
	mk := func(sizes ...int64) *manifest.Manifest {
		m := &manifest.Manifest{}
		for i, s := range sizes {
			k := fmt.Sprintf("k%02d", i)
			m.SortedRuns = append(m.SortedRuns, run(uint32(i+1), sst(k, "a", "z", s)))
		}
		return m
	}
	for _, tc := range []struct {
		sizes         []int64
		min, max, thr int
		want          []uint32 // nil: no plan
		bottom        bool
	}{
		{sizes: []int64{10, 10, 10}, min: 4, max: 8, thr: 4},
		{sizes: []int64{10, 10, 10, 10}, min: 4, max: 8, thr: 4, want: []uint32{1, 2, 3, 4}, bottom: true},
		// The big run is too different from the small ones at threshold 2.
		{sizes: []int64{10, 10, 10, 10, 100}, min: 4, max: 8, thr: 2, want: []uint32{1, 2, 3, 4}},
		// At threshold 4 the 40 qualifies, but merging it costs more per run removed.
		{sizes: []int64{10, 10, 10, 10, 40}, min: 4, max: 8, thr: 4, want: []uint32{1, 2, 3, 4}},
		// MaxSources caps the window; equal cost: the older window wins.
		{sizes: []int64{10, 10, 10}, min: 2, max: 2, thr: 4, want: []uint32{2, 3}, bottom: true},
		// Cheapest window is the small one at the end.
		{sizes: []int64{100, 100, 1, 1}, min: 2, max: 4, thr: 2, want: []uint32{3, 4}, bottom: true},
		{sizes: []int64{1, 5, 25}, min: 2, max: 8, thr: 4},
	} {
		p := PickRuns(mk(tc.sizes...), tc.min, tc.max, tc.thr)
		var got []uint32
		if p != nil {
			got = p.RunIDs()
		}
		if !slices.Equal(got, tc.want) || (p != nil && p.Bottom != tc.bottom) {
			t.Errorf("PickRuns(%v, %d, %d, %d) = %v (bottom %v), want %v (bottom %v)",
				tc.sizes, tc.min, tc.max, tc.thr, got, p != nil && p.Bottom, tc.want, tc.bottom)
		}
	}
}

type version struct {
	seq    uint64
	kind   base.Kind
	value  string
	expiry int64
}

// TestRunModel merges random inputs and compares the outputs with the expected newest
// version of every key, the drop rules, and the output invariants.
func TestRunModel(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runModel(t, seed) })
	}
}

func runModel(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	store := blobstore.NewMemory("db")
	now := time.Now().UnixNano()
	nIn := 1 + rng.IntN(5)
	versions := map[string][]version{}
	var seq uint64
	var inputs []Input
	for i := range nIn {
		// Each input: a run of 1-3 SSTs over disjoint key ranges.
		nSST := 1 + rng.IntN(3)
		bounds := []int{0}
		for range nSST - 1 {
			bounds = append(bounds, rng.IntN(300))
		}
		bounds = append(bounds, 300)
		sort.Ints(bounds)
		var in Input
		for s := range nSST {
			var entries []sstable.Entry
			for k := bounds[s]; k < bounds[s+1]; k++ {
				if rng.IntN(3) != 0 {
					continue
				}
				key := fmt.Sprintf("key-%04d", k)
				for range 1 + rng.IntN(2) {
					seq++
					v := version{seq: seq, kind: base.KindValue, value: fmt.Sprintf("v%d", seq)}
					switch r := rng.IntN(10); {
					case r < 2:
						v.kind, v.value = base.KindDelete, ""
					case r < 3:
						v.kind, v.value = base.KindDelete, ""
						v.expiry = now + int64(time.Hour)
					case r < 4:
						v.expiry = now - 1 // expired
					case r < 5:
						v.expiry = now + int64(time.Hour)
					case r < 6:
						v.kind, v.value = base.KindBlobRef, string(blobref.Of([]byte(v.value)).Append(nil))
					}
					versions[key] = append(versions[key], v)
					entries = append(entries, sstable.Entry{Key: []byte(key), Value: []byte(v.value), Seq: base.SeqNum(v.seq), Kind: v.kind, Expiry: v.expiry})
				}
			}
			// internal order: key asc, seq desc
			sort.SliceStable(entries, func(a, b int) bool {
				if c := bytes.Compare(entries[a].Key, entries[b].Key); c != 0 {
					return c < 0
				}
				return entries[a].Seq > entries[b].Seq
			})
			if len(entries) == 0 {
				continue
			}
			in.SSTs = append(in.SSTs, writeSST(t, store, fmt.Sprintf("in-%d-%d", i, s), entries, sstable.WriterOptions{BlockSize: 256}))
		}
		if len(in.SSTs) > 0 {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) == 0 {
		return
	}
	bottom := rng.IntN(2) == 0
	target := int64(512 + rng.IntN(4096))
	var n int
	opts := Options{
		Store: store, SST: sstable.WriterOptions{BlockSize: 256, Compression: []string{"none", "snappy", "zstd"}[rng.IntN(3)]},
		TargetSize: target, VerifyChecksums: rng.IntN(2) == 0, Epoch: 9, ReadBudget: 1,
		NewID: func(seqHi uint64) string { n++; return fmt.Sprintf("out-%03d", n) },
	}
	res, err := Run(ctx, Job{Inputs: inputs, Bottom: bottom, Now: now}, opts)
	if err != nil {
		t.Fatalf("seed %d: Run: %v", seed, err)
	}
	// Expected: the newest version of each key, minus the droppable ones at the bottom
	// (but never the newest entry of all).
	var want []sstable.Entry
	for key, vs := range versions {
		v := slices.MaxFunc(vs, func(a, b version) int { return int(a.seq) - int(b.seq) })
		if bottom && v.seq != seq && droppable(v.kind, v.expiry, now) {
			continue
		}
		want = append(want, sstable.Entry{Key: []byte(key), Value: []byte(v.value), Seq: base.SeqNum(v.seq), Kind: v.kind, Expiry: v.expiry})
	}
	sort.Slice(want, func(a, b int) bool { return bytes.Compare(want[a].Key, want[b].Key) < 0 })
	var got []sstable.Entry
	for i, o := range res.Outputs {
		es := readSST(t, store, o.ID)
		if len(es) == 0 || !bytes.Equal(es[0].Key, o.MinKey) || !bytes.Equal(es[len(es)-1].Key, o.MaxKey) {
			t.Fatalf("seed %d: output %s: key range does not match its entries", seed, o.ID)
		}
		if i > 0 && bytes.Compare(res.Outputs[i-1].MaxKey, o.MinKey) >= 0 {
			t.Fatalf("seed %d: outputs %d and %d overlap", seed, i-1, i)
		}
		if o.Level != 1 || o.Epoch != 9 {
			t.Fatalf("seed %d: output meta %+v", seed, o)
		}
		if i < len(res.Outputs)-1 && o.Size < target/2 {
			t.Fatalf("seed %d: output %d of %d bytes, target %d", seed, i, o.Size, target)
		}
		hasRefs := slices.ContainsFunc(es, func(e sstable.Entry) bool { return e.Kind == base.KindBlobRef })
		if o.HasBlobRefs != hasRefs {
			t.Fatalf("seed %d: output %s HasBlobRefs %v, holds refs %v", seed, o.ID, o.HasBlobRefs, hasRefs)
		}
		got = append(got, es...)
	}
	if len(got) != len(want) {
		t.Fatalf("seed %d (bottom %v): %d entries, want %d", seed, bottom, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) || g.Seq != w.Seq || g.Kind != w.Kind || g.Expiry != w.Expiry {
			t.Fatalf("seed %d: entry %d = %q#%d %v %q, want %q#%d %v %q", seed, i, g.Key, g.Seq, g.Kind, g.Value, w.Key, w.Seq, w.Kind, w.Value)
		}
	}
	if res.Stats.Entries != uint64(len(want)) || len(res.Attempted) != len(res.Outputs) {
		t.Fatalf("seed %d: stats %+v, attempted %v", seed, res.Stats, res.Attempted)
	}
	if len(got) > 0 && got[len(got)-1].Seq != base.SeqNum(seq) && !slices.ContainsFunc(got, func(e sstable.Entry) bool { return uint64(e.Seq) == seq }) {
		t.Fatalf("seed %d: the newest entry (seq %d) was dropped", seed, seq)
	}
}

// TestRunVerifiesChecksums: an input whose bytes do not hash to its manifest checksum fails
// the merge (with verification on) and nothing is left claimed as an output.
func TestRunVerifiesChecksums(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	var entries []sstable.Entry
	for i := range 2000 {
		entries = append(entries, sstable.Entry{Key: fmt.Appendf(nil, "k%05d", i), Value: bytes.Repeat([]byte{'v'}, 50), Seq: base.SeqNum(i + 1), Kind: base.KindValue})
	}
	meta := writeSST(t, store, "a", entries, sstable.WriterOptions{})
	good := meta.Checksum
	meta.Checksum = "sha256:" + string(bytes.Repeat([]byte("0"), 64))
	opts := Options{Store: store, TargetSize: 1 << 20, VerifyChecksums: true, NewID: func(uint64) string { return "out" }, ReadBudget: 1}
	res, err := Run(ctx, Job{Inputs: []Input{{SSTs: []manifest.SSTMeta{meta}}}}, opts)
	if !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("Run with a wrong checksum = %v, want corruption", err)
	}
	if len(res.Outputs) != 0 {
		t.Fatalf("outputs after a failure: %v", res.Outputs)
	}
	opts.VerifyChecksums = false
	if _, err := Run(ctx, Job{Inputs: []Input{{SSTs: []manifest.SSTMeta{meta}}}}, opts); err != nil {
		t.Fatalf("Run without verification: %v", err)
	}
	meta.Checksum = good
	opts.VerifyChecksums = true
	res, err = Run(ctx, Job{Inputs: []Input{{SSTs: []manifest.SSTMeta{meta}}}}, opts)
	if err != nil {
		t.Fatalf("Run with the right checksum: %v", err)
	}
	// Read by chunks: about one request per chunk, plus the open's tail read.
	if max := meta.Size/MinChunkSize + 3; res.Stats.ReadRequests > max {
		t.Fatalf("%d read requests for %d bytes, want at most %d", res.Stats.ReadRequests, meta.Size, max)
	}
	// A signature verifier sees every input's digest.
	var seen int
	opts.VerifySignature = func(hash []byte, sig *manifest.SSTSignature) error {
		seen++
		if sig == nil {
			return errors.New("unsigned")
		}
		return nil
	}
	if _, err := Run(ctx, Job{Inputs: []Input{{SSTs: []manifest.SSTMeta{meta}}}}, opts); err == nil || seen != 1 {
		t.Fatalf("unsigned input with a verifier: err %v, verifier calls %d", err, seen)
	}
}

// TestRunUploadFailure: a failed output upload fails the merge and names the output in
// Attempted.
func TestRunUploadFailure(t *testing.T) {
	ctx := context.Background()
	store, fb := faultstore.NewMemoryStore("db")
	var entries []sstable.Entry
	for i := range 500 {
		entries = append(entries, sstable.Entry{Key: fmt.Appendf(nil, "k%05d", i), Value: []byte("value"), Seq: base.SeqNum(i + 1), Kind: base.KindValue})
	}
	meta := writeSST(t, store, "a", entries, sstable.WriterOptions{})
	fb.FailPermanentlyIf(faultstore.PutsTo("out-3"), -1)
	n := 0
	opts := Options{Store: store, TargetSize: 1024, NewID: func(uint64) string { n++; return fmt.Sprintf("out-%d", n) }}
	res, err := Run(ctx, Job{Inputs: []Input{{SSTs: []manifest.SSTMeta{meta}}}}, opts)
	if !errors.Is(err, faultstore.ErrInjected) {
		t.Fatalf("Run with a failing upload = %v", err)
	}
	if len(res.Outputs) != 2 || len(res.Attempted) < 3 || res.Attempted[2] != "out-3" {
		t.Fatalf("attempted %v, outputs %d", res.Attempted, len(res.Outputs))
	}
}

func TestBlobRefs(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	r1, r2 := blobref.Of([]byte("one")), blobref.Of([]byte("two"))
	meta := writeSST(t, store, "a", []sstable.Entry{
		{Key: []byte("a"), Value: r1.Append(nil), Seq: 3, Kind: base.KindBlobRef},
		{Key: []byte("b"), Value: []byte("inline"), Seq: 2, Kind: base.KindValue},
		{Key: []byte("c"), Value: r2.Append(nil), Seq: 1, Kind: base.KindBlobRef},
	}, sstable.WriterOptions{})
	var got []string
	err := BlobRefs(ctx, store, meta.ID, meta.Size, func(ref []byte) error {
		r, err := blobref.Decode(ref)
		got = append(got, r.ID())
		return err
	})
	if err != nil || !slices.Equal(got, []string{r1.ID(), r2.ID()}) {
		t.Fatalf("BlobRefs = %v, %v", got, err)
	}
	plain := writeSST(t, store, "b", []sstable.Entry{{Key: []byte("a"), Value: []byte("x"), Seq: 1, Kind: base.KindValue}}, sstable.WriterOptions{})
	if err := BlobRefs(ctx, store, plain.ID, plain.Size, func([]byte) error { t.Fatal("no refs expected"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestStreamSource reads a file through the source in random patterns and checks the bytes
// and the verification.
func TestStreamSource(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if _, err := store.Write(ctx, "sst/x.sst", data); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		src := newStreamSource(ctx, store, "sst/x.sst", int64(len(data)), int64(1000+rng.IntN(100_000)), true, &ioStats{})
		// a tail read, then sequential reads of random sizes from 0, with random jumps
		p := make([]byte, 1000)
		if err := src.ReadAt(ctx, p, int64(len(data)-1000)); err != nil || !bytes.Equal(p, data[len(data)-1000:]) {
			t.Fatalf("trial %d: tail read: %v", trial, err)
		}
		off := int64(0)
		for off < int64(len(data)) && rng.IntN(20) != 0 {
			n := min(int64(1+rng.IntN(40_000)), int64(len(data))-off)
			q := make([]byte, n)
			at := off
			if rng.IntN(10) == 0 {
				at = rng.Int64N(int64(len(data)) - n + 1) // a random read
			}
			if err := src.ReadAt(ctx, q, at); err != nil || !bytes.Equal(q, data[at:at+n]) {
				t.Fatalf("trial %d: read %d at %d: %v", trial, n, at, err)
			}
			if at == off {
				off += n
			}
		}
		sum := sstableChecksum(data)
		if err := src.Verify(ctx, sum); err != nil {
			t.Fatalf("trial %d: Verify: %v", trial, err)
		}
		src.Close()
	}
	src := newStreamSource(ctx, store, "sst/x.sst", int64(len(data)), 4096, true, &ioStats{})
	if err := src.Verify(ctx, sstableChecksum(data[1:])); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("Verify with the wrong checksum = %v", err)
	}
	src.Close()
	// The manifest says the object is longer than it is.
	src = newStreamSource(ctx, store, "sst/x.sst", int64(len(data))+10, 4096, true, &ioStats{})
	if err := src.Verify(ctx, sstableChecksum(data)); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("Verify of a short object = %v", err)
	}
	src.Close()
}

func sstableChecksum(data []byte) string {
	var buf bytes.Buffer
	h := newStreamSource(context.Background(), nil, "", 0, 1, true, &ioStats{}).hash
	h.Write(data)
	fmt.Fprintf(&buf, "%s%x", sstable.ChecksumPrefix, h.Sum(nil))
	return buf.String()
}

// BenchmarkRun merges 8 SSTs of 2 MiB each (half the keys overwritten) held in memory.
func BenchmarkRun(b *testing.B) {
	for _, comp := range []string{"zstd", "snappy"} {
		b.Run(comp, func(b *testing.B) {
			ctx := context.Background()
			store := blobstore.NewMemory("db")
			rng := rand.New(rand.NewPCG(1, 1))
			var inputs []Input
			var size int64
			seq := base.SeqNum(0)
			val := make([]byte, 200)
			for i := range 8 {
				keys := make([]int, 0, 8000)
				for range 8000 {
					keys = append(keys, rng.IntN(40000))
				}
				slices.Sort(keys)
				keys = slices.Compact(keys)
				var es []sstable.Entry
				for _, k := range keys {
					seq++
					for j := 0; j < 100; j += 8 {
						v := rng.Uint64()
						for x := range 8 {
							val[j+x] = byte(v >> (8 * x))
						}
					}
					copy(val[100:], bytes.Repeat([]byte("abcdefgh"), 13))
					es = append(es, sstable.Entry{Key: fmt.Appendf(nil, "key-%012d", k), Value: bytes.Clone(val), Seq: seq, Kind: base.KindValue})
				}
				// seqs must descend within a key only; distinct keys: any order of seqs is fine
				m := writeSST(b, store, fmt.Sprintf("in-%d", i), es, sstable.WriterOptions{Compression: comp})
				inputs = append(inputs, Input{SSTs: []manifest.SSTMeta{m}})
				size += m.Size
			}
			n := 0
			opts := Options{Store: store, SST: sstable.WriterOptions{Compression: comp, Parallelism: 2}, TargetSize: 64 << 20,
				VerifyChecksums: true, NewID: func(uint64) string { n++; return fmt.Sprint("out-", n) }}
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				if _, err := Run(ctx, Job{Inputs: inputs}, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
