package bucketwal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestObjectGolden pins the bytes of a data object and a fence object (version 1): a change
// here is a format change (docs/format.md, "Bucket WAL objects").
func TestObjectGolden(t *testing.T) {
	data := &Object{Kind: KindData, Position: 7, Epoch: 3, CoveredBelow: 5, SeqLo: 100, SeqHi: 102,
		Records: [][]byte{[]byte("rec-a"), []byte("record-b")}}
	fence := &Object{Kind: KindFence, Position: 8, Epoch: 4, CoveredBelow: 5}
	var out strings.Builder
	for _, o := range []*Object{data, fence} {
		enc := Encode(nil, o)
		out.WriteString(hex.EncodeToString(enc) + "\n")
		back, err := Decode(Key(o.Position), enc)
		if err != nil {
			t.Fatal(err)
		}
		if back.Kind != o.Kind || back.Position != o.Position || back.Epoch != o.Epoch || back.CoveredBelow != o.CoveredBelow ||
			back.SeqLo != o.SeqLo || back.SeqHi != o.SeqHi || len(back.Records) != len(o.Records) {
			t.Fatalf("round trip: %+v, want %+v", back, o)
		}
		for i := range o.Records {
			if !bytes.Equal(back.Records[i], o.Records[i]) {
				t.Fatalf("record %d: %q, want %q", i, back.Records[i], o.Records[i])
			}
		}
	}
	// The framed encoding the Committer uses is the same bytes.
	var framed []byte
	for _, r := range data.Records {
		framed = AppendRecord(framed, r)
	}
	if got := encodeFramed(nil, data, len(data.Records), framed); !bytes.Equal(got, Encode(nil, data)) {
		t.Fatal("encodeFramed differs from Encode")
	}
	golden := filepath.Join("testdata", "wal-object-v1.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("objects encode to\n%s\nwant (%s)\n%s", out.String(), golden, want)
	}
}

func TestKey(t *testing.T) {
	if k := Key(42); k != "wal/00000000000000000042.wal" {
		t.Fatalf("Key(42) = %q", k)
	}
	for _, k := range []string{"wal/0.wal", "wal/00000000000000000000.wal", "sst/00000000000000000001.wal", "wal/0000000000000000000x.wal"} {
		if _, ok := ParseKey(k); ok {
			t.Errorf("ParseKey(%q) accepted", k)
		}
	}
	if p, ok := ParseKey(Key(42)); !ok || p != 42 {
		t.Errorf("ParseKey(Key(42)) = %d, %v", p, ok)
	}
}

func TestDecodeDamage(t *testing.T) {
	enc := Encode(nil, &Object{Kind: KindData, Position: 1, Epoch: 1, SeqLo: 1, SeqHi: 1, Records: [][]byte{[]byte("x")}})
	for i := range enc {
		bad := bytes.Clone(enc)
		bad[i] ^= 0x40
		if _, err := Decode("k", bad); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flipping byte %d: %v", i, err)
		}
	}
	if _, err := Decode("k", enc[:len(enc)-1]); !errors.Is(err, ErrCorruption) {
		t.Fatalf("truncated: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(nil, &Object{Kind: KindData, Position: 1, Epoch: 2, SeqLo: 3, SeqHi: 4, Records: [][]byte{[]byte("a"), nil}}))
	f.Add(Encode(nil, &Object{Kind: KindFence, Position: 9, Epoch: 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Decode("k", b)
		if err != nil {
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			return
		}
		if !bytes.Equal(Encode(nil, o), b) {
			t.Fatal("decoded object re-encodes differently")
		}
	})
}
