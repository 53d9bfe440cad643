package sstable

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"testing"
)

// buildIndex encodes sorted, distinct separators into index block contents with made-up
// contiguous handles and decodes them.
func buildIndex(t *testing.T, seps [][]byte) indexBlock {
	t.Helper()
	b := blockBuilder{restartInterval: 1}
	off := uint64(0)
	for _, s := range seps {
		b.add(s, makeTrailer(7, 0, false), 0, appendHandle(nil, blockHandle{off, 10}))
		off += 10 + blockTrailerLen
	}
	x, err := decodeIndex(append([]byte(nil), b.finish()...), "t", 0, off)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestIndexSearch(t *testing.T) {
	seed := newSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	alphabet := []byte{0, 1, 'a', 'b', 0xff}
	randKey := func(prefix string) []byte {
		k := []byte(prefix)
		for n := rng.IntN(12); n > 0; n-- {
			k = append(k, alphabet[rng.IntN(len(alphabet))])
		}
		return k
	}
	for round := 0; round < 200; round++ {
		prefix := []string{"", "common/", "cc", "\x00\x00"}[round%4]
		set := map[string]bool{}
		for n := 1 + rng.IntN(60); len(set) < n; {
			set[string(randKey(prefix))] = true
		}
		var seps [][]byte
		for k := range set {
			seps = append(seps, []byte(k))
		}
		sort.Slice(seps, func(i, j int) bool { return bytes.Compare(seps[i], seps[j]) < 0 })
		x := buildIndex(t, seps)
		probes := [][]byte{nil, {}, []byte(prefix), []byte("common"), []byte("zzz"), {0}, {0xff, 0xff}}
		for i := 0; i < 50; i++ {
			probes = append(probes, randKey(prefix), randKey(""), seps[rng.IntN(len(seps))])
		}
		for _, p := range probes {
			want := sort.Search(len(seps), func(i int) bool { return bytes.Compare(seps[i], p) >= 0 })
			if got := x.search(p); got != want {
				t.Fatalf("search(%q) over %q = %d, want %d", p, seps, got, want)
			}
		}
	}
	if x := (indexBlock{}); x.search([]byte("a")) != 0 {
		t.Error("search of an empty index")
	}
}
