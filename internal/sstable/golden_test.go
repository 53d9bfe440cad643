package sstable

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenEntries is the fixed content of the golden files: every kind, expiries, several
// versions of a key, an empty value and an empty key, spread over several blocks.
func goldenEntries() []Entry {
	es := []Entry{
		{Key: []byte(""), Seq: 40, Kind: base.KindValue, Value: []byte("the empty key")},
		{Key: []byte("apple"), Seq: 39, Kind: base.KindValue, Value: []byte("red")},
		{Key: []byte("apple"), Seq: 12, Kind: base.KindDelete},
		{Key: []byte("apple"), Seq: 3, Kind: base.KindValue, Value: []byte("green")},
		{Key: []byte("banana"), Seq: 38, Kind: base.KindValue, Value: []byte{}},
		{Key: []byte("blob"), Seq: 37, Kind: base.KindBlobRef, Value: []byte("sha256:00112233:4096")},
		{Key: []byte("cherry"), Seq: 36, Kind: base.KindValue, Value: []byte("dark red"), Expiry: 1735787045000000000},
		{Key: []byte("cherry-tomato"), Seq: 35, Kind: base.KindDelete, Expiry: 1735787046000000000},
	}
	for i := 0; i < 24; i++ {
		es = append(es, Entry{
			Key:   []byte(fmt.Sprintf("fruit/%03d", i)),
			Seq:   base.SeqNum(34 - i),
			Kind:  base.KindValue,
			Value: bytes.Repeat([]byte(fmt.Sprintf("value %d ", i)), 1+i%5),
		})
	}
	return es
}

// goldenFiles are the checked-in golden SSTs. The uncompressed one is compared byte for
// byte with fresh output; the snappy one only read back, because a codec library upgrade
// may legitimately change compressed bytes.
var goldenFiles = []struct {
	name        string
	opts        WriterOptions
	compareSelf bool
}{
	{"golden-v1-none.sst", WriterOptions{BlockSize: 256, Compression: "none", CreationTime: fixedTime}, true},
	{"golden-v1-snappy.sst", WriterOptions{BlockSize: 256, Compression: "snappy", CreationTime: fixedTime}, false},
}

func TestGolden(t *testing.T) {
	es := goldenEntries()
	for _, g := range goldenFiles {
		t.Run(g.name, func(t *testing.T) {
			path := filepath.Join("testdata", g.name)
			layoutPath := path + ".txt"
			fresh, _ := build(t, es, g.opts)
			if *update {
				if err := os.WriteFile(path, fresh, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(layoutPath, []byte(describe(t, fresh)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			// Read back what is checked in.
			for mode, r := range openBoth(t, data, ReaderOptions{}) {
				t.Run(mode, func(t *testing.T) {
					got := collect(t, r.NewIter(ctx, IterOptions{}))
					if len(got) != len(es) {
						t.Fatalf("%d entries, want %d", len(got), len(es))
					}
					for i := range es {
						if !equalEntry(got[i], es[i]) {
							t.Fatalf("entry %d: %+v, want %+v", i, got[i], es[i])
						}
					}
					if _, err := r.Verify(ctx); err != nil {
						t.Fatal(err)
					}
					if !r.Properties().CreationTime.Equal(fixedTime) {
						t.Errorf("creation time %v", r.Properties().CreationTime)
					}
				})
			}
			layout, err := os.ReadFile(layoutPath)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(t, data); got != string(layout) {
				t.Errorf("layout of %s differs from %s:\n%s", path, layoutPath, got)
			}
			if g.compareSelf && !bytes.Equal(fresh, data) {
				t.Errorf("the writer's output differs from %s: the format changed. If on purpose, bump the format version, then run go test -run TestGolden -update", path)
			}
		})
	}
}

// describe renders the layout of an SST as text: every block's location and type, then the
// properties. The golden layout files make a format change visible in review.
func describe(t testing.TB, data []byte) string {
	t.Helper()
	r, err := OpenBytes(data, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "size %d, format version %d\n", len(data), r.footer.version)
	blk := func(name string, h blockHandle) {
		fmt.Fprintf(&sb, "%-14s offset %5d  payload %5d  type %s\n", name, h.offset, h.length, Compression(data[h.offset+h.length]))
	}
	for i := range r.index.entries {
		e := r.index.entries[i]
		blk(fmt.Sprintf("data %d", i), e.handle)
		fmt.Fprintf(&sb, "%14s separator %q#%d\n", "", r.index.key(i), e.seq)
	}
	if r.footer.filter.length > 0 {
		blk("filter", r.footer.filter)
	}
	blk("index", r.footer.index)
	blk("properties", r.footer.props)
	fmt.Fprintf(&sb, "%-14s offset %5d  length %5d\n", "footer", len(data)-footerLen, footerLen)
	sb.WriteString(r.Properties().String())
	return sb.String()
}
