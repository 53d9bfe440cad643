package isledb

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the root package's golden files in testdata/")

// goldenBatch is the fixed content of testdata/writer-wal-batch-v3.golden: a put, a put with
// an expiry, a delete and a delete with an expiry.
func goldenBatch() *Batch {
	b := &Batch{}
	b.add(base.KindValue, []byte("key"), []byte("value"), 0)
	b.add(base.KindValue, []byte("k2"), []byte("v2"), 0x0102030405060708)
	b.add(base.KindDelete, []byte("gone"), nil, 0)
	b.add(base.KindDelete, []byte("d"), nil, 9)
	return b
}

// TestWriterWALBatchGolden pins the bytes of a writer WAL batch record (version 3): a
// change here is a format change.
func TestWriterWALBatchGolden(t *testing.T) {
	got := appendBatchRecord(nil, 0x0102, 300, goldenBatch())
	path := filepath.Join("testdata", "writer-wal-batch-v3.golden")
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("batch record encodes to\n%x\nwant (%s)\n%x", got, path, want)
	}
	// The layout, spelled out as docs/format.md shows it.
	const hexWant = "03" + "0201000000000000" + "ac02" + "04" +
		"01" + "0000000000000000" + "03" + "6b6579" + "05" + "76616c7565" +
		"01" + "0807060504030201" + "02" + "6b32" + "02" + "7632" +
		"00" + "0000000000000000" + "04" + "676f6e65" + "00" +
		"00" + "0900000000000000" + "01" + "64" + "00"
	if h := bytesHex(want); h != hexWant {
		t.Fatalf("golden file %s is\n%s\nwant\n%s", path, h, hexWant)
	}
	recs, err := decodeWALBatch(want)
	if err != nil {
		t.Fatal(err)
	}
	type w struct {
		seq    base.SeqNum
		kind   base.Kind
		expiry int64
		key    string
		value  string
	}
	wantRecs := []w{
		{0x102, base.KindValue, 0, "key", "value"},
		{0x103, base.KindValue, 0x0102030405060708, "k2", "v2"},
		{0x104, base.KindDelete, 0, "gone", ""},
		{0x105, base.KindDelete, 9, "d", ""},
	}
	if len(recs) != len(wantRecs) {
		t.Fatalf("decoded %d writes, want %d", len(recs), len(wantRecs))
	}
	for i, r := range recs {
		g := w{r.seq, r.kind, r.expiry, string(r.key), string(r.value)}
		if g != wantRecs[i] || r.epoch != 300 || !r.batch {
			t.Errorf("write %d = %+v (epoch %d, batch %v), want %+v", i, g, r.epoch, r.batch, wantRecs[i])
		}
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestWriterWALBatchDecodeErrors: malformed batch records are corruption, never a panic or
// a partial batch.
func TestWriterWALBatchDecodeErrors(t *testing.T) {
	good := appendBatchRecord(nil, 7, 2, goldenBatch()) // epoch 2: a one-byte uvarint at 9, count at 10
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated by one byte", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"epoch 0", append(append([]byte{3}, good[1:9]...), append([]byte{0}, good[10:]...)...)},
		{"count 0", append(append([]byte{}, good[:10]...), append([]byte{0}, good[11:]...)...)},
		{"count too high", append(append([]byte{}, good[:10]...), append([]byte{5}, good[11:]...)...)},
		{"seq 0", append(append([]byte{3}, make([]byte, 8)...), good[9:]...)},
		{"blob ref kind", func() []byte { b := bytes.Clone(good); b[11] = byte(base.KindBlobRef); return b }()},
	} {
		if rs, err := decodeWALBatch(tc.b); !errors.Is(err, ErrCorruption) {
			t.Errorf("%s: decode = %d writes, %v; want ErrCorruption", tc.name, len(rs), err)
		}
	}
}

func FuzzDecodeWALBatch(f *testing.F) {
	f.Add(appendBatchRecord(nil, 5, 2, goldenBatch()))
	f.Add([]byte{3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'k', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := decodeWALBatch(b)
		if err != nil {
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			if recs != nil {
				t.Fatal("writes returned with an error")
			}
			return
		}
		if len(recs) == 0 {
			t.Fatal("a batch decoded without writes")
		}
		// A decoded batch encodes back to the same bytes.
		nb := &Batch{}
		for i, r := range recs {
			if r.epoch == 0 || !r.batch || r.seq != recs[0].seq+base.SeqNum(i) {
				t.Fatalf("write %d = %+v", i, r)
			}
			nb.add(r.kind, r.key, r.value, r.expiry)
		}
		if again := appendBatchRecord(nil, recs[0].seq, recs[0].epoch, nb); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded as %x, was %x", again, b)
		}
	})
}
