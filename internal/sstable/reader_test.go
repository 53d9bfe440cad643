package sstable

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
)

var ctx = context.Background()

// openBoth opens data twice: in memory and as a remote object read by range.
func openBoth(t testing.TB, data []byte, opts ReaderOptions) map[string]*Reader {
	t.Helper()
	mem, err := OpenBytes(data, opts)
	if err != nil {
		t.Fatalf("OpenBytes: %v", err)
	}
	opts.TailReadSize = 4096
	rem, err := Open(ctx, remote(data), opts)
	if err != nil {
		t.Fatalf("Open remote: %v", err)
	}
	return map[string]*Reader{"mem": mem, "remote": rem}
}

// newest maps every user key to its newest entry.
func newest(es []Entry) map[string]Entry {
	m := make(map[string]Entry)
	for _, e := range es {
		if _, ok := m[string(e.Key)]; !ok {
			m[string(e.Key)] = e
		}
	}
	return m
}

// checkReader checks that r yields exactly es, and that Get finds the newest version of
// every key and nothing for absent keys.
func checkReader(t *testing.T, r *Reader, es []Entry, rng *rand.Rand) {
	t.Helper()
	got := collect(t, r.NewIter(ctx, IterOptions{}))
	if len(got) != len(es) {
		t.Fatalf("iterated %d entries, want %d", len(got), len(es))
	}
	for i := range es {
		if !equalEntry(got[i], es[i]) {
			t.Fatalf("entry %d: got %q#%d, want %q#%d", i, got[i].Key, got[i].Seq, es[i].Key, es[i].Seq)
		}
	}
	for k, want := range newest(es) {
		e, ok, err := r.Get(ctx, []byte(k))
		if err != nil || !ok || !equalEntry(e, want) {
			t.Fatalf("Get(%q) = %v, %v, %v; want %+v", k, e, ok, err, want)
		}
	}
	for range 200 {
		k := []byte(fmt.Sprintf("key-%08d-absent%d", rng.IntN(1<<30), rng.IntN(10)))
		if e, ok, err := r.Get(ctx, k); ok || err != nil {
			t.Fatalf("Get(absent %q) = %+v, %v, %v", k, e, ok, err)
		}
	}
}

func TestRoundTripRandom(t *testing.T) {
	seed := newSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	n := 3000
	if testing.Short() || raceEnabled {
		n = 1000
	}
	es := randomEntries(rng, n)
	for _, comp := range []string{"none", "snappy", "zstd", "lz4"} {
		for _, cfg := range []WriterOptions{
			{},
			{BlockSize: 256, RestartInterval: 1, BloomBitsPerKey: NoBloomFilter},
			{BlockSize: 1, RestartInterval: 3, BloomBitsPerKey: 4},
			{BlockSize: 16 << 10, RestartInterval: 64, BloomBitsPerKey: 20},
		} {
			cfg.Compression = comp
			name := fmt.Sprintf("%s/bs=%d/ri=%d/bloom=%d", comp, cfg.BlockSize, cfg.RestartInterval, cfg.BloomBitsPerKey)
			t.Run(name, func(t *testing.T) {
				data, m := build(t, es, cfg)
				for mode, r := range openBoth(t, data, ReaderOptions{}) {
					t.Run(mode, func(t *testing.T) {
						checkReader(t, r, es, rng)
						vm, err := r.Verify(ctx)
						if err != nil {
							t.Fatal(err)
						}
						if vm.Checksum != m.Checksum || vm.Size != m.Size {
							t.Fatalf("Verify metadata %s/%d, writer said %s/%d", vm.Checksum, vm.Size, m.Checksum, m.Size)
						}
					})
				}
			})
		}
	}
}

func TestEmptyFile(t *testing.T) {
	data, m := build(t, nil, WriterOptions{})
	if m.EntryCount != 0 || len(m.MinKey) != 0 || len(m.MaxKey) != 0 || m.BloomBitsPerKey != 0 {
		t.Errorf("metadata of empty file: %+v", m)
	}
	for mode, r := range openBoth(t, data, ReaderOptions{}) {
		if got := collect(t, r.NewIter(ctx, IterOptions{})); len(got) != 0 {
			t.Errorf("%s: iterated %d entries", mode, len(got))
		}
		if it := r.NewIter(ctx, IterOptions{}); it.SeekGE([]byte("a")) || it.Valid() || it.Close() != nil {
			t.Errorf("%s: SeekGE on empty file", mode)
		}
		if _, ok, err := r.Get(ctx, []byte("a")); ok || err != nil {
			t.Errorf("%s: Get on empty file: %v %v", mode, ok, err)
		}
		if r.MayContain([]byte("a")) {
			t.Errorf("%s: MayContain on empty file", mode)
		}
		if _, err := r.Verify(ctx); err != nil {
			t.Errorf("%s: Verify: %v", mode, err)
		}
	}
}

func TestGetVersionsAcrossBlocks(t *testing.T) {
	// Tiny blocks put the versions of one key into several blocks.
	var es []Entry
	for k := 0; k < 20; k++ {
		for s := 10; s > 0; s-- {
			es = append(es, Entry{Key: []byte(fmt.Sprintf("k%02d", k)), Seq: base.SeqNum(k*100 + s), Kind: base.KindValue, Value: []byte(fmt.Sprint(s))})
		}
	}
	data, m := build(t, es, WriterOptions{BlockSize: 60, RestartInterval: 2})
	if m.Properties.DataBlockCount < 50 {
		t.Fatalf("only %d blocks", m.Properties.DataBlockCount)
	}
	for mode, r := range openBoth(t, data, ReaderOptions{}) {
		t.Run(mode, func(t *testing.T) {
			checkReader(t, r, es, rand.New(rand.NewPCG(1, 1)))
			// SeekGE to every key gives its newest version; Next walks the older ones.
			it := r.NewIter(ctx, IterOptions{})
			for k := 0; k < 20; k++ {
				key := []byte(fmt.Sprintf("k%02d", k))
				if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) || it.Seq() != base.SeqNum(k*100+10) {
					t.Fatalf("SeekGE(%s) at %q#%d", key, it.Key(), it.Seq())
				}
				for s := 9; s > 0; s-- {
					if !it.Next() || it.Seq() != base.SeqNum(k*100+s) {
						t.Fatalf("Next after %s: %q#%d", key, it.Key(), it.Seq())
					}
				}
			}
			if err := it.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// seekEntries is a small file with gaps between keys and shortened separators.
func seekEntries() []Entry {
	var es []Entry
	for i := 0; i < 200; i++ {
		key := fmt.Sprintf("k%03d", i*2) // even keys only
		es = append(es, Entry{Key: []byte(key), Seq: 5, Kind: base.KindValue, Value: []byte(key)})
		if i%7 == 0 {
			es = append(es, Entry{Key: []byte(key), Seq: 4, Kind: base.KindDelete})
		}
	}
	return es
}

func TestSeekGE(t *testing.T) {
	es := seekEntries()
	data, _ := build(t, es, WriterOptions{BlockSize: 128})
	// Separators between "k012" and "k014" shorten to "k013": seeking to keys that fall
	// between a block's last key and its separator must move on to the next block.
	tests := []struct {
		seek    string
		want    string // "" for exhausted
		wantSeq base.SeqNum
	}{
		{"", "k000", 5},
		{"a", "k000", 5},
		{"k", "k000", 5},
		{"k000", "k000", 5},
		{"k000\x00", "k002", 5},
		{"k001", "k002", 5},
		{"k013", "k014", 5},
		{"k0135", "k014", 5},
		{"k014", "k014", 5},
		{"k397", "k398", 5},
		{"k398", "k398", 5},
		{"k398\x00", "", 0},
		{"k399", "", 0},
		{"z", "", 0},
		{"\xff\xff", "", 0},
	}
	shortened := 0
	if r, err := OpenBytes(data, ReaderOptions{}); err == nil {
		for i := range r.index.entries {
			if r.index.entries[i].seq == base.SeqNumMax {
				shortened++
			}
		}
	}
	if shortened == 0 {
		t.Fatal("no shortened separators: the test does not cover them")
	}
	for mode, r := range openBoth(t, data, ReaderOptions{}) {
		it := r.NewIter(ctx, IterOptions{})
		for _, tt := range tests {
			ok := it.SeekGE([]byte(tt.seek))
			if tt.want == "" {
				if ok || it.Valid() {
					t.Errorf("%s: SeekGE(%q) at %q, want exhausted", mode, tt.seek, it.Key())
				}
				continue
			}
			if !ok || string(it.Key()) != tt.want || it.Seq() != tt.wantSeq {
				t.Errorf("%s: SeekGE(%q) = %v at %q#%d, want %q#%d", mode, tt.seek, ok, it.Key(), it.Seq(), tt.want, tt.wantSeq)
			}
		}
		// Every position reached by SeekGE continues in order to the end.
		for i := 0; i < 400; i += 13 {
			key := fmt.Sprintf("k%03d", i)
			n := 0
			for ok := it.SeekGE([]byte(key)); ok; ok = it.Next() {
				n++
			}
			want := 0
			for _, e := range es {
				if string(e.Key) >= key {
					want++
				}
			}
			if n != want {
				t.Errorf("%s: from %s iterated %d entries, want %d", mode, key, n, want)
			}
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBounds(t *testing.T) {
	es := seekEntries()
	data, _ := build(t, es, WriterOptions{BlockSize: 128})
	within := func(o IterOptions, key []byte) bool {
		if o.Lower != nil && bytes.Compare(key, o.Lower) < 0 {
			return false
		}
		if o.Upper != nil {
			c := bytes.Compare(key, o.Upper)
			if c > 0 || (c == 0 && o.UpperExclusive) {
				return false
			}
		}
		return true
	}
	b := func(s string) []byte { return []byte(s) }
	cases := []IterOptions{
		{Lower: b("k010"), Upper: b("k020")},
		{Lower: b("k010"), Upper: b("k020"), UpperExclusive: true},
		{Lower: b("k011"), Upper: b("k013")},
		{Lower: b("k014"), Upper: b("k014")},
		{Lower: b("k014"), Upper: b("k014"), UpperExclusive: true},
		{Lower: b("k020"), Upper: b("k010")},
		{Lower: b("a")},
		{Upper: b("k100")},
		{Upper: b("k000")},
		{Upper: b("a")},
		{Lower: b("z")},
		{Lower: b("k000"), Upper: b("k398")},
		{Lower: b(""), Upper: b("")},
	}
	for mode, r := range openBoth(t, data, ReaderOptions{}) {
		for _, o := range cases {
			var want []Entry
			for _, e := range es {
				if within(o, e.Key) {
					want = append(want, e)
				}
			}
			got := collect(t, r.NewIter(ctx, o))
			if len(got) != len(want) {
				t.Errorf("%s: bounds [%q, %q] excl=%v: %d entries, want %d", mode, o.Lower, o.Upper, o.UpperExclusive, len(got), len(want))
				continue
			}
			for i := range got {
				if !equalEntry(got[i], want[i]) {
					t.Errorf("%s: bounds %+v: entry %d differs", mode, o, i)
				}
			}
			// SeekGE below the lower bound clamps to it; above the upper bound finds nothing.
			it := r.NewIter(ctx, o)
			if ok := it.SeekGE([]byte("")); ok != (len(want) > 0) || (ok && !bytes.Equal(it.Key(), want[0].Key)) {
				t.Errorf("%s: bounds %+v: SeekGE(\"\") = %v at %q", mode, o, ok, it.Key())
			}
			if it.SeekGE([]byte("zzz")) {
				t.Errorf("%s: SeekGE past the end is valid", mode)
			}
			it.Close()
		}
	}
}

func TestEmptyAndLargeKeysValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rng.IntN(256))
	}
	compressible := bytes.Repeat([]byte("abcdefgh"), 1<<17)
	longKey := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	es := []Entry{
		{Key: []byte{}, Seq: 9, Kind: base.KindValue, Value: []byte("empty key")},
		{Key: []byte{}, Seq: 8, Kind: base.KindValue, Value: nil},
		{Key: []byte("a"), Seq: 1, Kind: base.KindValue},
		{Key: []byte("b"), Seq: 2, Kind: base.KindValue, Value: big},
		{Key: []byte("c"), Seq: 3, Kind: base.KindValue, Value: compressible},
		{Key: longKey('d', 4000), Seq: 4, Kind: base.KindValue, Value: []byte("long key")},
		{Key: longKey('d', 4001), Seq: 5, Kind: base.KindValue, Value: []byte("longer key")},
		{Key: longKey('e', config.KeySizeLimit-1), Seq: 6, Kind: base.KindDelete},
		{Key: []byte("f"), Seq: 7, Kind: base.KindValue, Value: big, Expiry: 1},
	}
	for _, comp := range []string{"none", "snappy", "zstd", "lz4"} {
		data, _ := build(t, es, WriterOptions{Compression: comp})
		for mode, r := range openBoth(t, data, ReaderOptions{Cache: NewLRUCache(64 << 20)}) {
			t.Run(comp+"/"+mode, func(t *testing.T) {
				checkReader(t, r, es, rng)
				if _, err := r.Verify(ctx); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestTombstonesAndExpiry(t *testing.T) {
	es := []Entry{
		{Key: []byte("a"), Seq: 10, Kind: base.KindDelete, Expiry: 1<<62 + 3},
		{Key: []byte("a"), Seq: 9, Kind: base.KindValue, Value: []byte("old"), Expiry: 12345},
		{Key: []byte("b"), Seq: 8, Kind: base.KindDelete},
		{Key: []byte("c"), Seq: 7, Kind: base.KindValue, Value: []byte("x"), Expiry: 1<<63 - 1},
		{Key: []byte("d"), Seq: 6, Kind: base.KindBlobRef, Value: []byte("ref"), Expiry: 1},
	}
	data, m := build(t, es, WriterOptions{})
	if m.Properties.TombstoneCount != 2 || m.Properties.ExpiringCount != 4 || m.Properties.MinExpiry != 1 || m.Properties.MaxExpiry != 1<<63-1 {
		t.Errorf("properties:\n%s", &m.Properties)
	}
	for _, r := range openBoth(t, data, ReaderOptions{}) {
		checkReader(t, r, es, rand.New(rand.NewPCG(1, 1)))
		e, ok, err := r.Get(ctx, []byte("a"))
		if !ok || err != nil || e.Kind != base.KindDelete || e.Expiry != 1<<62+3 || e.Seq != 10 {
			t.Errorf("Get(a) = %+v %v %v", e, ok, err)
		}
	}
}

func TestOpenReadCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	es := randomEntries(rng, 20000)
	data, m := build(t, es, WriterOptions{})
	if len(data) < 256<<10 {
		t.Fatalf("file of %d bytes is too small for this test", len(data))
	}
	meta := m.Size - int64(m.Properties.DataSize)

	// Tail read large enough for all meta blocks: one read.
	src := remote(data)
	r, err := Open(ctx, src, ReaderOptions{TailReadSize: int(meta) + 10})
	if err != nil {
		t.Fatal(err)
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("Open with a large tail read issued %d reads, want 1", n)
	}
	// Tail read too small: exactly two.
	src = remote(data)
	cache := NewLRUCache(64 << 20)
	r, err = Open(ctx, src, ReaderOptions{TailReadSize: 1024, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if n := src.reads.Load(); n != 2 {
		t.Errorf("Open with a small tail read issued %d reads, want 2", n)
	}
	// A cold point lookup costs one read; a warm one none; an absent key (filtered) none.
	key := es[len(es)/2].Key
	before := src.reads.Load()
	if _, ok, err := r.Get(ctx, key); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if n := src.reads.Load() - before; n != 1 {
		t.Errorf("cold Get issued %d reads, want 1", n)
	}
	before = src.reads.Load()
	if _, ok, err := r.Get(ctx, key); !ok || err != nil {
		t.Fatal(ok, err)
	}
	absent := 0
	for i := 0; i < 100; i++ {
		if _, ok, _ := r.Get(ctx, []byte(fmt.Sprintf("absent-%d", i))); !ok {
			absent++
		}
	}
	if n := src.reads.Load() - before; n > 3 {
		t.Errorf("warm Get and 100 absent keys issued %d reads, want at most 3 (bloom false positives)", n)
	}
	if st := r.Stats(); st.Reads != uint64(src.reads.Load()) || st.BytesRead != uint64(src.bytes.Load()) {
		t.Errorf("Stats %v, source saw %d reads and %d bytes", st, src.reads.Load(), src.bytes.Load())
	}
	// A file that fits in the tail read is read once, ever.
	small, _ := build(t, es[:50], WriterOptions{})
	src = remote(small)
	r, err = Open(ctx, src, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkReader(t, r, es[:50], rng)
	if n := src.reads.Load(); n != 1 {
		t.Errorf("small file: %d reads, want 1", n)
	}
}

func TestIteratorReadahead(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	es := randomEntries(rng, 20000)
	data, m := build(t, es, WriterOptions{})
	blocks := int64(m.Properties.DataBlockCount)
	for _, ra := range []int{NoReadahead, 0, 64 << 10} {
		src := remote(data)
		r, err := Open(ctx, src, ReaderOptions{TailReadSize: 1024, ReadaheadSize: ra})
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, r.NewIter(ctx, IterOptions{}))
		if len(got) != len(es) {
			t.Fatalf("readahead %d: %d entries, want %d", ra, len(got), len(es))
		}
		reads := src.reads.Load() - 2
		t.Logf("readahead %d: %d blocks in %d reads", ra, blocks, reads)
		if ra == NoReadahead && reads != blocks {
			t.Errorf("without readahead: %d reads for %d blocks", reads, blocks)
		}
		if ra != NoReadahead && reads > blocks/8 {
			t.Errorf("readahead %d: %d reads for %d blocks", ra, reads, blocks)
		}
		if src.bytes.Load() > int64(len(data))+1024 {
			t.Errorf("readahead %d read %d bytes of a %d byte file", ra, src.bytes.Load(), len(data))
		}
	}
}

func TestFileSource(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	es := randomEntries(rng, 3000)
	data, _ := build(t, es, WriterOptions{Compression: "lz4"})
	path := filepath.Join(t.TempDir(), "000001.sst")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := NewFileSource(f)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, src, ReaderOptions{Object: path, TailReadSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	checkReader(t, r, es, rng)
	if _, err := VerifyFile(ctx, src, ReaderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := src.ReadAt(ctx, make([]byte, 10), src.Size()-5); err == nil {
		t.Error("read past the end succeeded")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := src.ReadAt(cctx, make([]byte, 10), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("read with a canceled context: %v", err)
	}
}

func TestReaderClose(t *testing.T) {
	es := seekEntries()
	data, _ := build(t, es, WriterOptions{BlockSize: 128})
	for mode, r := range openBoth(t, data, ReaderOptions{}) {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Get(ctx, []byte("k100")); !errors.Is(err, ErrReaderClosed) {
			t.Errorf("%s: Get after Close = %v", mode, err)
		}
		if r.Close() != nil {
			t.Errorf("%s: second Close failed", mode)
		}
	}
}

func TestSourceErrors(t *testing.T) {
	es := seekEntries()
	data, _ := build(t, es, WriterOptions{BlockSize: 128})
	boom := errors.New("503 slow down")
	src := &flakySource{Source: BytesSource(data), failAt: -1, err: boom}
	r, err := Open(ctx, src, ReaderOptions{TailReadSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	src.failAt = 0
	if _, _, err := r.Get(ctx, []byte("k100")); !errors.Is(err, boom) || base.IsCorruption(err) {
		t.Errorf("Get with a failing source = %v", err)
	}
	it := r.NewIter(ctx, IterOptions{})
	if it.First() || !errors.Is(it.Err(), boom) || !errors.Is(it.Close(), boom) {
		t.Errorf("iterator with a failing source: %v", it.Err())
	}
	// Open fails cleanly on the first and on the second read.
	for i := 0; i < 2; i++ {
		src := &flakySource{Source: BytesSource(data), failAt: i, err: boom}
		if _, err := Open(ctx, src, ReaderOptions{TailReadSize: 512}); !errors.Is(err, boom) {
			t.Errorf("Open failing at read %d = %v", i, err)
		}
	}
}

type flakySource struct {
	Source
	n, failAt int
	err       error
}

func (f *flakySource) ReadAt(ctx context.Context, p []byte, off int64) error {
	n := f.n
	f.n++
	if f.failAt >= 0 && n >= f.failAt {
		return f.err
	}
	return f.Source.ReadAt(ctx, p, off)
}

func TestConcurrentReaders(t *testing.T) {
	seed := newSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	es := randomEntries(rng, 5000)
	data, _ := build(t, es, WriterOptions{Compression: "zstd", BlockSize: 1024})
	cache := NewLRUCache(256 << 10) // small: forces evictions while readers run
	want := newest(es)
	keys := make([][]byte, 0, len(want))
	for k := range want {
		keys = append(keys, []byte(k))
	}
	readers := []*Reader{}
	for _, r := range openBoth(t, data, ReaderOptions{Cache: cache}) {
		readers = append(readers, r)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := readers[g%len(readers)]
			lrng := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := 0; i < 300; i++ {
				k := keys[lrng.IntN(len(keys))]
				e, ok, err := r.Get(ctx, k)
				if err != nil || !ok || !equalEntry(e, want[string(k)]) {
					errc <- fmt.Errorf("Get(%q) = %+v %v %v", k, e, ok, err)
					return
				}
				if i%50 == 0 {
					it := r.NewIter(ctx, IterOptions{Lower: k})
					n := 0
					for ok := it.First(); ok && n < 200; ok = it.Next() {
						n++
					}
					if err := it.Close(); err != nil {
						errc <- err
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Log(cache.Metrics())
}

func TestGetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(14, 14))
	es := randomEntries(rng, 5000)
	data, _ := build(t, es, WriterOptions{})
	r, err := Open(ctx, remote(data), ReaderOptions{Cache: NewLRUCache(64 << 20), TailReadSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	key := es[1234].Key
	absent := []byte("absent-key")
	if _, ok, err := r.Get(ctx, key); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if n := testing.AllocsPerRun(100, func() { r.Get(ctx, key) }); n > 0 {
		t.Errorf("cached Get allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { r.Get(ctx, absent) }); n > 0 {
		t.Errorf("absent Get allocates %v times", n)
	}
	it := r.NewIter(ctx, IterOptions{})
	it.First()
	if n := testing.AllocsPerRun(100, func() {
		if !it.Next() {
			it.First()
		}
	}); n > 0 {
		t.Errorf("cached Next allocates %v times", n)
	}
}
