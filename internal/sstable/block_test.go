package sstable

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

func TestSharedPrefixLen(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "", 0},
		{"abc", "abd", 2},
		{"abc", "abc", 3},
		{"abcdefghijklmnop", "abcdefghijklmnoq", 15},
		{"abcdefghijklmnop", "abcdefghXjklmnop", 8},
		{"abcdefgh", "abcdefghij", 8},
	}
	for _, tt := range tests {
		if got := sharedPrefixLen([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("sharedPrefixLen(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestShortSeparator(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"abc", "abe", "abd"},
		{"abc", "abd", "abc"},        // no room between
		{"abc", "abcd", "abc"},       // a is a prefix of b
		{"a\xff", "b", "a\xff"},      // cannot increment 0xff
		{"apple", "banana", "apple"}, // 'a'+1 is not below 'b'
		{"apple", "cherry", "b"},
		{"k012", "k014", "k013"},
		{"", "b", ""},
		{"foo/bar/1", "foo/baz", "foo/bas"},
	}
	for _, tt := range tests {
		got := string(shortSeparator(nil, []byte(tt.a), []byte(tt.b)))
		if got != tt.want {
			t.Errorf("shortSeparator(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
		if got < tt.a || got >= tt.b {
			t.Errorf("shortSeparator(%q, %q) = %q is not in [a, b)", tt.a, tt.b, got)
		}
	}
}

type blockTestEntry struct {
	key     string
	seq     base.SeqNum
	kind    base.Kind
	expiry  int64
	value   string
	trailer uint64
}

func buildTestBlock(entries []blockTestEntry, restartInterval int) []byte {
	b := blockBuilder{restartInterval: restartInterval}
	for i := range entries {
		e := &entries[i]
		e.trailer = makeTrailer(e.seq, e.kind, e.expiry != 0)
		b.add([]byte(e.key), e.trailer, e.expiry, []byte(e.value))
	}
	return append([]byte(nil), b.finish()...)
}

func TestBlockRoundTrip(t *testing.T) {
	seed := newSeed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, ri := range []int{1, 2, 16, 1000} {
		var es []blockTestEntry
		keys := map[string]bool{}
		for len(keys) < 300 {
			keys[fmt.Sprintf("%s%d", bytes.Repeat([]byte("p"), rng.IntN(300)), rng.IntN(1000))] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for i, k := range sorted {
			e := blockTestEntry{key: k, seq: base.SeqNum(i + 1), kind: base.Kind(i % 3), value: string(bytes.Repeat([]byte{'v'}, rng.IntN(200)))}
			if i%4 == 0 {
				e.expiry = int64(i) + 1
			}
			es = append(es, e)
		}
		data := buildTestBlock(es, ri)
		var it blockIter
		if err := it.init(data, "t", 0); err != nil {
			t.Fatal(err)
		}
		wantRestarts := (len(es) + ri - 1) / ri
		if it.numRestarts != wantRestarts {
			t.Errorf("ri=%d: %d restart points, want %d", ri, it.numRestarts, wantRestarts)
		}
		i := 0
		for ok := it.first(); ok; ok = it.nextEntry() {
			e := es[i]
			if string(it.key) != e.key || it.seq() != e.seq || it.kind() != e.kind || it.expiry != e.expiry || string(it.value) != e.value {
				t.Fatalf("ri=%d entry %d: got %q#%d", ri, i, it.key, it.seq())
			}
			i++
		}
		if it.err != nil || i != len(es) {
			t.Fatalf("ri=%d: %d entries, err %v", ri, i, it.err)
		}
		// seekGE and blockGet agree with a linear search for present and absent keys.
		for _, k := range append(sorted, "", "zzz", sorted[10]+"\x00", sorted[20][:len(sorted[20])-1]) {
			want := sort.Search(len(es), func(j int) bool { return es[j].key >= k })
			ok := it.seekGE([]byte(k))
			if ok != (want < len(es)) || (ok && string(it.key) != es[want].key) {
				t.Fatalf("ri=%d seekGE(%q) = %v at %q, want index %d", ri, k, ok, it.key, want)
			}
			be, found, _, problem := blockGet(data, []byte(k))
			wantFound := want < len(es) && es[want].key == k
			if problem != "" || found != wantFound || (found && (be.trailer != es[want].trailer || string(be.value) != es[want].value || be.expiry != es[want].expiry)) {
				t.Fatalf("ri=%d blockGet(%q) = %+v %v %q", ri, k, be, found, problem)
			}
		}
	}
}

func TestBlockDamage(t *testing.T) {
	es := []blockTestEntry{{key: "a", seq: 3, kind: base.KindValue, value: "1"}, {key: "ab", seq: 2, kind: base.KindValue, value: "2", expiry: 5}, {key: "b", seq: 1, kind: base.KindDelete}}
	good := buildTestBlock(es, 2)
	damaged := map[string][]byte{
		"short":               {1, 0},
		"restart count huge":  append(append([]byte(nil), good[:len(good)-4]...), 0xff, 0xff, 0xff, 0x7f),
		"no restarts":         append(append([]byte(nil), good[:len(good)-4]...), 0, 0, 0, 0),
		"first restart not 0": func() []byte { b := append([]byte(nil), good...); b[len(b)-12] = 1; return b }(),
		"bad kind":            func() []byte { b := append([]byte(nil), good...); b[3+1] = 0x7f; return b }(),
		"key too long":        func() []byte { b := append([]byte(nil), good...); b[1] = 100; return b }(),
		"shared too long":     func() []byte { b := append([]byte(nil), good...); b[0] = 5; return b }(),
		"value too long":      func() []byte { b := append([]byte(nil), good...); b[2] = 120; return b }(),
	}
	for name, data := range damaged {
		var it blockIter
		err := it.init(data, "obj", 77)
		if err == nil {
			for ok := it.first(); ok; ok = it.nextEntry() {
			}
			err = it.err
		}
		_, _, _, problem := blockGet(data, []byte("b"))
		if err == nil && problem == "" {
			t.Errorf("%s: damage not detected", name)
		}
		if err != nil {
			mustBeCorruption(t, name, err)
		}
	}
}

func BenchmarkBlockGet(b *testing.B) {
	var es []blockTestEntry
	for i := 0; i < 32; i++ {
		es = append(es, blockTestEntry{key: fmt.Sprintf("key%013d", i*7), seq: 1, kind: base.KindValue, value: string(make([]byte, 100))})
	}
	data := buildTestBlock(es, 16)
	key := []byte(es[13].key)
	for b.Loop() {
		blockGet(data, key)
	}
}
