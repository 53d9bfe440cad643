package sstable

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
)

func TestMetadata(t *testing.T) {
	es := []Entry{
		{Key: []byte("a"), Seq: 7, Kind: base.KindValue, Value: []byte("1")},
		{Key: []byte("a"), Seq: 3, Kind: base.KindDelete},
		{Key: []byte("b"), Seq: 9, Kind: base.KindBlobRef, Value: []byte("ref"), Expiry: 500},
		{Key: []byte("c"), Seq: 2, Kind: base.KindValue, Value: []byte("33"), Expiry: 100},
	}
	data, m := build(t, es, WriterOptions{Compression: "zstd"})
	sum := sha256.Sum256(data)
	if m.SHA256 != sum || m.Checksum != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("checksum %s does not match the bytes", m.Checksum)
	}
	if m.Size != int64(len(data)) || m.EntryCount != 4 || string(m.MinKey) != "a" || string(m.MaxKey) != "c" ||
		m.SeqLo != 2 || m.SeqHi != 9 || !m.HasBlobRefs || m.BloomBitsPerKey != 10 || m.BloomProbes != 6 ||
		!m.CreatedAt.Equal(fixedTime) {
		t.Errorf("metadata: %+v", m)
	}
	p := m.Properties
	if p.TombstoneCount != 1 || p.BlobRefCount != 1 || p.ExpiringCount != 2 || p.MinExpiry != 100 || p.MaxExpiry != 500 ||
		p.Compression != "zstd" || p.RawKeySize != 4 || p.RawValueSize != 6 || p.DataBlockCount != 1 || p.BlockSize != 4096 || p.RestartInterval != 16 {
		t.Errorf("properties:\n%s", p.String())
	}
	r, err := OpenBytes(data, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rp := r.Properties()
	if rp.String() != p.String() || !rp.CreationTime.Equal(fixedTime) {
		t.Errorf("reader properties differ:\n%s\nwriter:\n%s", rp, &p)
	}
	if r.Size() != int64(len(data)) {
		t.Errorf("Size() = %d", r.Size())
	}
}

func TestWriterRejects(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{CreationTime: fixedTime})
	if err != nil {
		t.Fatal(err)
	}
	add := func(key string, seq base.SeqNum) error {
		return w.Add(Entry{Key: []byte(key), Seq: seq, Kind: base.KindValue})
	}
	if err := add("m", 10); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		e    Entry
		want error
	}{
		{"smaller key", Entry{Key: []byte("a"), Seq: 1}, ErrOutOfOrder},
		{"same key same seq", Entry{Key: []byte("m"), Seq: 10}, ErrOutOfOrder},
		{"same key newer seq", Entry{Key: []byte("m"), Seq: 11}, ErrOutOfOrder},
		{"bad kind", Entry{Key: []byte("z"), Seq: 1, Kind: 9}, ErrInvalidEntry},
		{"seq too large", Entry{Key: []byte("z"), Seq: base.SeqNumMax + 1}, ErrInvalidEntry},
		{"negative expiry", Entry{Key: []byte("z"), Seq: 1, Expiry: -1}, ErrInvalidEntry},
		{"key too large", Entry{Key: make([]byte, config.KeySizeLimit+1), Seq: 1}, ErrInvalidEntry},
	}
	for _, tt := range tests {
		if err := w.Add(tt.e); !errors.Is(err, tt.want) {
			t.Errorf("%s: Add = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Rejections do not poison the writer.
	if err := add("m", 9); err != nil {
		t.Fatal(err)
	}
	if err := add("n", base.SeqNumMax); err != nil {
		t.Fatal(err)
	}
	m, err := w.Finish()
	if err != nil || m.EntryCount != 3 {
		t.Fatalf("Finish = %+v, %v", m, err)
	}
	if err := add("z", 1); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Add after Finish = %v", err)
	}
	if _, err := w.Finish(); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Finish after Finish = %v", err)
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestWriterWriteError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	es := randomEntries(rng, 2000)
	w, err := NewWriter(&failingWriter{after: 100 << 10}, WriterOptions{Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	var addErr error
	for _, e := range es {
		if addErr = w.Add(e); addErr != nil {
			break
		}
	}
	_, finErr := w.Finish()
	if addErr == nil && finErr == nil {
		t.Fatal("no error from a failing destination")
	}
	if err := w.Add(Entry{Key: []byte("zzzz"), Seq: 1}); err == nil {
		t.Error("writer accepted entries after a write error")
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := WriterOptions{BlockSize: -1, RestartInterval: maxRestartInterval + 1, BloomBitsPerKey: 65, Compression: "gzip", Parallelism: -1}.EnsureDefaults()
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidOptions) || !errors.Is(err, ErrUnknownCompression) {
		t.Fatalf("Validate = %v", err)
	}
	for _, field := range []string{"BlockSize", "RestartInterval", "BloomBitsPerKey", "gzip", "Parallelism"} {
		if !bytes.Contains([]byte(err.Error()), []byte(field)) {
			t.Errorf("Validate does not report %s: %v", field, err)
		}
	}
	if _, err := NewWriter(&bytes.Buffer{}, WriterOptions{Compression: "brotli"}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("NewWriter accepted an unknown compression: %v", err)
	}
	def := WriterOptions{}.EnsureDefaults()
	if def.BlockSize != 4096 || def.RestartInterval != 16 || def.BloomBitsPerKey != 10 || def.Compression != "snappy" || def.CreationTime.IsZero() {
		t.Errorf("defaults: %+v", def)
	}
	if err := def.Validate(); err != nil {
		t.Error(err)
	}
	if o := (WriterOptions{BloomBitsPerKey: -7}).EnsureDefaults(); o.BloomBitsPerKey != NoBloomFilter || o.Validate() != nil {
		t.Errorf("negative bloom bits: %+v", o)
	}
	rerr := ReaderOptions{TailReadSize: 10, CacheID: 1 << 63, ReadaheadSize: 1 << 30}.EnsureDefaults().Validate()
	for _, field := range []string{"TailReadSize", "CacheID", "ReadaheadSize"} {
		if rerr == nil || !bytes.Contains([]byte(rerr.Error()), []byte(field)) {
			t.Errorf("reader Validate does not report %s: %v", field, rerr)
		}
	}
	if _, err := OpenBytes(nil, ReaderOptions{TailReadSize: 1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Open accepted bad options: %v", err)
	}
	rdef := ReaderOptions{}.EnsureDefaults()
	if rdef.TailReadSize != 64<<10 || rdef.ReadaheadSize != 256<<10 || rdef.Validate() != nil {
		t.Errorf("reader defaults: %+v", rdef)
	}
}

func TestParallelCompressionSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	text := randomEntries(rng, 1500)
	// Random binary values: zstd's Huffman coding of literals stops paying, and the
	// writer switches it off (see zstdProbeInterval); text keeps it on.
	var binary []Entry
	for i := 0; i < 3000; i++ {
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		binary = append(binary, Entry{Key: []byte(fmt.Sprintf("%016x", i)), Seq: 1, Kind: base.KindValue, Value: v})
	}
	for name, es := range map[string][]Entry{"text": text, "binary": binary} {
		// The zstd writer ends up skipping Huffman coding for binary values only.
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, WriterOptions{Compression: "zstd", BlockSize: 1024})
		for _, e := range es {
			if err := w.Add(e); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(); err != nil {
			t.Fatal(err)
		}
		if w.zstdRawLiterals != (name == "binary") {
			t.Errorf("%s: zstdRawLiterals = %v at the end", name, w.zstdRawLiterals)
		}
		for _, comp := range []string{"zstd", "lz4", "none"} {
			seq, m1 := build(t, es, WriterOptions{Compression: comp, Parallelism: 1, BlockSize: 1024})
			for _, par := range []int{2, 7} {
				par1, m2 := build(t, es, WriterOptions{Compression: comp, Parallelism: par, BlockSize: 1024})
				if !bytes.Equal(seq, par1) || m1.Checksum != m2.Checksum {
					t.Fatalf("%s/%s: Parallelism %d changes the output", name, comp, par)
				}
			}
			r, err := OpenBytes(seq, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkReader(t, r, es, rng)
		}
	}
}

func TestZstdProbe(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	random := make([]byte, 4096)
	for i := range random {
		if (i/64)%2 == 0 {
			random[i] = byte(rng.Uint32())
		}
	}
	text := bytes.Repeat([]byte("the literal bytes of text are worth huffman coding; "), 80)
	for _, tt := range []struct {
		name  string
		block []byte
		pays  bool
	}{{"random literals", random, false}, {"text", text, true}} {
		p, ok, pays, _, _ := zstdProbe(nil, nil, tt.block)
		if !ok || pays != tt.pays {
			t.Errorf("%s: ok=%v entropyPays=%v", tt.name, ok, pays)
		}
		out, err := decompressBlock(CompressionZstd, p)
		if err != nil || !bytes.Equal(out, tt.block) {
			t.Errorf("%s: round trip: %v", tt.name, err)
		}
	}
}

func TestWriterEstimatedSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	es := randomEntries(rng, 3000)
	for _, par := range []int{1, 4} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{Compression: "none", Parallelism: par})
		if err != nil {
			t.Fatal(err)
		}
		last := int64(0)
		for _, e := range es {
			if err := w.Add(e); err != nil {
				t.Fatal(err)
			}
			if s := w.EstimatedSize(); s < last-4096 {
				t.Fatalf("EstimatedSize went from %d down to %d", last, s)
			} else {
				last = s
			}
		}
		if w.EntryCount() != uint64(len(es)) {
			t.Errorf("EntryCount %d", w.EntryCount())
		}
		m, err := w.Finish()
		if err != nil {
			t.Fatal(err)
		}
		if last > m.Size || last < int64(m.Properties.DataSize)-4096 {
			t.Errorf("Parallelism %d: final estimate %d, data size %d, file size %d", par, last, m.Properties.DataSize, m.Size)
		}
	}
}
