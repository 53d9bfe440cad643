package mergeiter

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "run TestModel with this seed only (0: seeds 1..-seeds)")
	seedsFlag = flag.Int("seeds", 300, "number of seeds TestModel runs")
)

// TestModel merges random inputs (overlapping keys, tombstones, blob references, expired and
// expiring entries, random bounds and mode) and compares every step of a random sequence of
// First, SeekGE and Next with a model built from a map of all entries. One seed in ten also
// makes an input fail at a random call. A failure names its seed; replay it with
// go test -run TestModel -seed N.
func TestModel(t *testing.T) {
	if *seedFlag != 0 {
		runModel(t, *seedFlag)
		return
	}
	n := *seedsFlag
	if testing.Short() {
		n = 50
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		runModel(t, seed)
		if t.Failed() {
			return
		}
	}
}

const modelNow = 1_000_000_000

func runModel(t *testing.T, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x6d657267))
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (replay: go test -run TestModel -seed %d): %s", seed, seed, fmt.Sprintf(format, args...))
	}

	// Keys over a small alphabet, so that inputs overlap and keys are prefixes of others.
	randKey := func() []byte {
		k := make([]byte, r.IntN(4))
		for i := range k {
			k[i] = "abc"[r.IntN(3)]
		}
		return k
	}

	nInputs := 1 + r.IntN(8)
	if r.IntN(20) == 0 {
		nInputs = 20 + r.IntN(30)
	}
	sizes := make([]int, nInputs)
	total := 0
	for i := range sizes {
		sizes[i] = r.IntN(40)
		total += sizes[i]
	}
	seqs := r.Perm(total) // unique sequence numbers across all inputs
	var all []Entry
	sis := make([]*SliceInput, nInputs)
	ins := make([]Input, nInputs)
	for i := range nInputs {
		ents := make([]Entry, sizes[i])
		for j := range ents {
			ent := Entry{Key: randKey(), Seq: base.SeqNum(seqs[0] + 1), Kind: base.KindValue}
			seqs = seqs[1:]
			ent.Value = fmt.Appendf(nil, "v%d", ent.Seq)
			switch x := r.IntN(10); {
			case x < 2:
				ent.Kind, ent.Value = base.KindDelete, nil
			case x < 3:
				ent.Kind = base.KindBlobRef
			}
			switch x := r.IntN(10); {
			case x == 0:
				ent.Expiry = modelNow // expired exactly now
			case x == 1:
				ent.Expiry = 1 + r.Int64N(modelNow) // expired
			case x == 2:
				ent.Expiry = modelNow + 1 + r.Int64N(modelNow) // still live
			}
			ents[j] = ent
		}
		all = append(all, ents...)
		sis[i] = NewSliceInput(ents)
		ins[i] = sis[i]
	}

	var opts Options
	opts.Now = modelNow
	opts.Mode = Mode(r.IntN(int(modeCount)))
	if r.IntN(3) > 0 {
		opts.Lower = randKey()
	}
	if r.IntN(3) > 0 {
		opts.Upper = randKey()
	}
	var boom error
	if r.IntN(10) == 0 {
		boom = errors.New("injected")
		sis[r.IntN(nInputs)].FailAfter(r.IntN(60), boom)
	}

	want := modelView(all, opts)
	it := New(ins, opts)
	pos := -1 // index in want; -1 or len(want): not valid
	nOps := 20 + r.IntN(100)
	for op := range nOps {
		var desc string
		switch x := r.IntN(10); {
		case x == 0:
			desc = "First"
			it.First()
			pos = 0
		case x < 3:
			k := randKey()
			desc = fmt.Sprintf("SeekGE(%q)", k)
			it.SeekGE(k)
			pos = sort.Search(len(want), func(i int) bool { return bytes.Compare(want[i].Key, k) >= 0 })
		default:
			desc = "Next"
			wasValid := it.Valid()
			it.Next()
			if wasValid {
				pos++
			} else {
				pos = -1
			}
		}
		where := fmt.Sprintf("op %d %s (mode %v, bounds [%q, %q], %d inputs)", op, desc, opts.Mode, opts.Lower, opts.Upper, nInputs)
		if err := it.Err(); err != nil {
			if boom == nil || !errors.Is(err, boom) {
				fail("%s: unexpected error %v", where, err)
			}
			if it.Valid() {
				fail("%s: valid with an error", where)
			}
			break
		}
		for i, si := range sis {
			if si.Err() != nil {
				fail("%s: input %d failed but the iterator reports no error", where, i)
			}
		}
		wantValid := pos >= 0 && pos < len(want)
		if it.Valid() != wantValid {
			fail("%s: Valid = %v, want %v", where, it.Valid(), wantValid)
		}
		if !wantValid {
			pos = -1
			continue
		}
		w := want[pos]
		if !bytes.Equal(it.Key(), w.Key) || it.Seq() != w.Seq || it.Kind() != w.Kind ||
			!bytes.Equal(it.Value(), w.Value) || it.Expiry() != w.Expiry {
			fail("%s: got %q#%d %v %q exp %d, want %q#%d %v %q exp %d", where,
				it.Key(), it.Seq(), it.Kind(), it.Value(), it.Expiry(), w.Key, w.Seq, w.Kind, w.Value, w.Expiry)
		}
	}
	err := it.Close()
	if err != nil && (boom == nil || !errors.Is(err, boom)) {
		fail("Close: %v", err)
	}
	for i, si := range sis {
		if !si.Closed() {
			fail("input %d not closed", i)
		}
	}
}

// modelView computes what an Iterator with opts must yield over entries, the plain way: group
// the entries by user key in a map, sort each group newest first, and apply the mode's rule
// to each key in order.
func modelView(entries []Entry, opts Options) []Entry {
	byKey := map[string][]Entry{}
	for _, e := range entries {
		byKey[string(e.Key)] = append(byKey[string(e.Key)], e)
	}
	userKeys := make([]string, 0, len(byKey))
	for k := range byKey {
		userKeys = append(userKeys, k)
	}
	slices.Sort(userKeys)
	var out []Entry
	for _, k := range userKeys {
		if opts.Lower != nil && k < string(opts.Lower) || opts.Upper != nil && k > string(opts.Upper) {
			continue
		}
		versions := byKey[k]
		slices.SortFunc(versions, func(a, b Entry) int { return int(b.Seq) - int(a.Seq) })
		switch opts.Mode {
		case ModeAll:
			out = append(out, versions...)
		case ModeNewest:
			out = append(out, versions[0])
		case ModeVisible:
			newest := versions[0]
			if newest.Kind != base.KindDelete && (newest.Expiry == 0 || newest.Expiry > opts.Now) {
				out = append(out, newest)
			}
		}
	}
	return out
}
