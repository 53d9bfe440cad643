package kv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenValues are the fixed cases of testdata/values-v1.golden: every type and the edges
// of each (extreme integers, special floats, empty and long strings).
func goldenValues() []struct {
	name string
	v    Value
} {
	return []struct {
		name string
		v    Value
	}{
		{"int64 0", Int64Value(0)},
		{"int64 -42", Int64Value(-42)},
		{"int64 max", Int64Value(math.MaxInt64)},
		{"int64 min", Int64Value(math.MinInt64)},
		{"float64 1.5", Float64Value(1.5)},
		{"float64 -0", Float64Value(math.Copysign(0, -1))},
		{"float64 +inf", Float64Value(math.Inf(1))},
		{"float64 nan", Float64Value(math.Float64frombits(0x7ff8000000000001))},
		{"bool false", BoolValue(false)},
		{"bool true", BoolValue(true)},
		{"string empty", StringValue("")},
		{"string hi", StringValue("hi")},
		{"string utf8", StringValue("héllo, 世界")},
		{"string 300", StringValue(strings.Repeat("x", 300))},
		{"bytes empty", BytesValue(nil)},
		{"bytes 00ff", BytesValue([]byte{0x00, 0xff})},
		{"tombstone", TombstoneValue()},
	}
}

// TestValueGolden pins the encoding: every case encodes to the golden bytes, and the
// golden bytes decode to the case.
func TestValueGolden(t *testing.T) {
	path := filepath.Join("testdata", "values-v1.golden")
	var b strings.Builder
	b.WriteString("# kv value encoding version 1 (docs/format.md): name <TAB> hex\n")
	for _, c := range goldenValues() {
		fmt.Fprintf(&b, "%s\t%x\n", c.name, EncodeValue(c.v))
	}
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Fatalf("encoding changed:\n got:\n%s\nwant:\n%s", b.String(), want)
	}
	cases := goldenValues()
	for i, line := range strings.Split(strings.TrimSpace(string(want)), "\n")[1:] {
		name, hx, _ := strings.Cut(line, "\t")
		raw, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		v, n, err := DecodeValue(raw)
		if err != nil || n != len(raw) || name != cases[i].name || !v.Equal(cases[i].v) {
			t.Fatalf("%s: decoded %v (%d of %d bytes), %v; want %v", name, v, n, len(raw), err, cases[i].v)
		}
		if got := cases[i].v.EncodedSize(); got != len(raw) {
			t.Fatalf("%s: EncodedSize %d, encoding %d bytes", name, got, len(raw))
		}
	}
}

func TestDecodeValueRejectsBadBytes(t *testing.T) {
	for _, b := range [][]byte{
		nil, {0x00}, {0x07}, {0xff}, {0x01, 1, 2, 3}, {0x02}, {0x03}, {0x03, 0x02},
		{0x04}, {0x04, 0x05, 'a'}, {0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, _, err := DecodeValue(b); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("DecodeValue(%x): %v, want ErrInvalidValue", b, err)
		}
	}
	if _, err := decodeStored([]byte{0x03, 0x01, 0x00}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("trailing bytes: %v", err)
	}
}

func TestDecodeZeroCopyAliases(t *testing.T) {
	enc := EncodeValue(BytesValue([]byte("abc")))
	zc, _, _ := DecodeValueZeroCopy(enc)
	cp, _, _ := DecodeValue(enc)
	enc[2] = 'X'
	if string(zc.Bytes) != "Xbc" || string(cp.Bytes) != "abc" {
		t.Fatalf("zero copy %q, copy %q", zc.Bytes, cp.Bytes)
	}
	buf := make([]byte, 0, 64)
	v := StringValue("hello")
	if out := AppendEncodedValue(buf, v); &out[0] != &buf[:1][0] || !bytes.Equal(out, EncodeValue(v)) {
		t.Fatal("AppendEncodedValue did not append in place")
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, c := range goldenValues() {
		f.Add(EncodeValue(c.v))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := DecodeValue(b)
		if err != nil {
			return
		}
		if n > len(b) || !bytes.Equal(EncodeValue(v), b[:n]) {
			t.Fatalf("%x: decoded %v from %d bytes, re-encodes to %x", b, v, n, EncodeValue(v))
		}
	})
}
