package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestSegmentHeaderRoundTrip(t *testing.T) {
	for _, h := range []segmentHeader{
		{stream: "a", start: 0},
		{stream: "events", start: 42},
		{stream: string(bytes.Repeat([]byte("n"), MaxStreamNameLen)), start: 1<<64 - 1},
	} {
		b := appendSegmentHeader(nil, h)
		if int64(len(b)) != headerLen(h.stream) {
			t.Fatalf("header length %d, want %d", len(b), headerLen(h.stream))
		}
		got, n, err := decodeSegmentHeader(b, "p")
		if err != nil || got != h || n != len(b) {
			t.Fatalf("decode = %+v, %d, %v; want %+v", got, n, err, h)
		}
		for i := range b {
			bad := bytes.Clone(b)
			bad[i] ^= 0x40
			if _, _, err := decodeSegmentHeader(bad, "p"); !errors.Is(err, ErrCorruption) {
				t.Fatalf("flipping byte %d: err = %v, want corruption", i, err)
			}
		}
		for i := 0; i < len(b); i++ {
			if _, _, err := decodeSegmentHeader(b[:i], "p"); !errors.Is(err, ErrCorruption) {
				t.Fatalf("header cut to %d bytes: err = %v", i, err)
			}
		}
	}
}

func TestSegmentFileNames(t *testing.T) {
	for _, c := range []struct {
		name  string
		start SeqNum
		ok    bool
	}{
		{"00000000000000000000.wal", 0, true},
		{"00000000000000000042.wal", 42, true},
		{"18446744073709551615.wal", 1<<64 - 1, true},
		{"18446744073709551616.wal", 0, false},
		{"0000000000000000042.wal", 0, false},
		{"0000000000000000004x.wal", 0, false},
		{"00000000000000000042.wal.tmp", 0, false},
		{"00000000000000000042", 0, false},
		{"+0000000000000000042.wal", 0, false},
	} {
		got, ok := parseSegmentFileName(c.name)
		if ok != c.ok || got != c.start {
			t.Errorf("parse(%q) = %d, %v; want %d, %v", c.name, got, ok, c.start, c.ok)
		}
		if c.ok && segmentFileName(c.start) != c.name {
			t.Errorf("segmentFileName(%d) = %q", c.start, segmentFileName(c.start))
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	compressible := bytes.Repeat([]byte("compress me "), 100)
	for _, comp := range []Compression{CompressionNone, CompressionLZ4} {
		enc := encoder{compression: comp, minCompress: 64}
		entries := [][]byte{{}, []byte("x"), []byte("hello world"), compressible, bytes.Repeat([]byte{0}, 63)}
		var buf []byte
		var offs []int
		for i, e := range entries {
			offs = append(offs, len(buf))
			typ := byte(recordTypeFull)
			if i%2 == 1 {
				typ = recordTypeBatchMore
			}
			buf = enc.appendRecord(buf, SeqNum(100+i), typ, e)
		}
		rr := newRecordReader(nil, bytes.NewReader(buf), int64(len(buf)), "mem", 0, 100, 16)
		for i, want := range entries {
			rec, err := rr.next()
			if err != nil {
				t.Fatalf("%v: record %d: %v", comp, i, err)
			}
			if rec.id != SeqNum(100+i) || rec.off != int64(offs[i]) {
				t.Fatalf("record %d: id %d off %d", i, rec.id, rec.off)
			}
			if comp == CompressionLZ4 && bytes.Equal(want, compressible) && rec.flags&recordFlagLZ4 == 0 {
				t.Fatalf("compressible entry stored raw")
			}
			if len(want) < 64 && rec.flags&recordFlagLZ4 != 0 {
				t.Fatalf("entry below MinCompressionSize compressed")
			}
			got, err := decodePayload(nil, rec.flags, rec.payload, true, rec.off, "mem")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("record %d = %q, %v", i, got, err)
			}
		}
		if _, err := rr.next(); err != io.EOF {
			t.Fatalf("after last record: %v", err)
		}
		// The CRC covers the sequence number: reading at the wrong id fails.
		if _, _, _, err := parseRecord(buf, 7, 0, "mem"); !errors.Is(err, ErrCRCMismatch) {
			t.Fatalf("parse with wrong id: %v", err)
		}
	}
}

func TestRecordCorruptionDetected(t *testing.T) {
	enc := encoder{}
	rec := enc.appendRecord(nil, 5, recordTypeFull, []byte("payload bytes"))
	for i := range rec {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(rec)
			bad[i] ^= bit
			_, _, _, err := parseRecord(bad, 5, 0, "p")
			if _, short := err.(errShortRecord); !short && !errors.Is(err, ErrCorruption) {
				t.Fatalf("flip bit %#x of byte %d: err = %v", bit, i, err)
			}
		}
	}
	rr := newRecordReader(rec[:len(rec)-1], nil, int64(len(rec)-1), "p", 0, 5, 0)
	var ce *CorruptionError
	if _, err := rr.next(); !errors.As(err, &ce) || ce.Reason != "truncated record" || ce.Offset != 0 {
		t.Fatalf("truncated record: %v", err)
	}
}

func TestZeroTail(t *testing.T) {
	enc := encoder{}
	buf := enc.appendRecord(nil, 0, recordTypeFull, []byte("a"))
	end := len(buf)
	buf = append(buf, make([]byte, 100)...)
	rr := newRecordReader(buf, nil, int64(len(buf)), "p", 0, 0, 0)
	if _, err := rr.next(); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.next(); err != io.EOF || !rr.zeroTail || rr.off != int64(end) {
		t.Fatalf("zero tail: err %v zeroTail %v off %d", err, rr.zeroTail, rr.off)
	}
	buf[len(buf)-1] = 1
	rr = newRecordReader(buf, nil, int64(len(buf)), "p", 0, 0, 0)
	rr.next()
	if _, err := rr.next(); !errors.Is(err, ErrCorruption) {
		t.Fatalf("garbage after zeros: %v", err)
	}
}

// goldenEntries are the entries of testdata/segment-v1.golden: single appends, an empty
// entry, a batch of three, and an LZ4-compressed entry.
func goldenEntries() (singles [][]byte, batch [][]byte, compressed []byte) {
	singles = [][]byte{[]byte("hello"), {}, []byte("isledb wal")}
	batch = [][]byte{[]byte("batch-0"), []byte("batch-1"), []byte("batch-2")}
	compressed = bytes.Repeat([]byte("abcd"), 16)
	return
}

func goldenOptions(root string) Options {
	o := DefaultOptions(root)
	o.SyncMode = SyncAsync
	o.Compression = CompressionLZ4
	o.MinCompressionSize = 32
	return o
}

// writeGoldenSegment writes the golden stream and returns its segment file's bytes.
func writeGoldenSegment(t *testing.T) []byte {
	root := t.TempDir()
	w := mustOpen(t, goldenOptions(root))
	singles, batch, compressed := goldenEntries()
	for _, e := range singles {
		if _, err := w.Append("golden", e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.AppendBatch("golden", batch); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append("golden", compressed); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	b, err := os.ReadFile(filepath.Join(root, "golden", segmentFileName(0)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenSegment(t *testing.T) {
	path := filepath.Join("testdata", "segment-v1.golden")
	got := writeGoldenSegment(t)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("segment format changed: regenerated %d bytes differ from %s (%d bytes); "+
			"a format change needs a new version", len(got), path, len(want))
	}

	// The checked-in file reads back through a real WAL.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "golden"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "golden", segmentFileName(0)), want, 0o644); err != nil {
		t.Fatal(err)
	}
	o := goldenOptions(root)
	o.OnCorruption = OnCorruptionError
	w := mustOpen(t, o)
	defer mustClose(t, w)
	singles, batch, compressed := goldenEntries()
	all := append(append(append([][]byte{}, singles...), batch...), compressed)
	ids, es := collect(t, w, "golden", 0)
	if len(ids) != len(all) {
		t.Fatalf("read %d entries, want %d", len(ids), len(all))
	}
	for i := range all {
		if !bytes.Equal(es[i], all[i]) {
			t.Fatalf("entry %d = %q, want %q", i, es[i], all[i])
		}
	}

	// And through the byte-level decoder used by the fuzz test.
	_, entries, err := decodeSegment(want, OnCorruptionError)
	if err != nil || len(entries) != len(all) {
		t.Fatalf("decodeSegment: %d entries, %v", len(entries), err)
	}
}

func goldenCheckpoint() ([]byte, *CheckpointData) {
	return []byte("raft-index-1234"), &CheckpointData{
		Offsets:    []SeqNum{0, 7, 1 << 40},
		Timestamp:  time.Unix(1700000000, 123456789),
		ShardCount: 3,
	}
}

func TestGoldenCheckpoint(t *testing.T) {
	path := filepath.Join("testdata", "checkpoint-v1.golden")
	id, d := goldenCheckpoint()
	got := appendCheckpoint(nil, id, d)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("checkpoint format changed; a format change needs a new version")
	}
	gid, gd, err := decodeCheckpoint(want, path)
	if err != nil || !bytes.Equal(gid, id) || !gd.Timestamp.Equal(d.Timestamp) || gd.ShardCount != 3 ||
		len(gd.Offsets) != 3 || gd.Offsets[2] != 1<<40 {
		t.Fatalf("decode golden checkpoint: %q %+v %v", gid, gd, err)
	}
	for i := range want {
		bad := bytes.Clone(want)
		bad[i] ^= 0x10
		if _, _, err := decodeCheckpoint(bad, path); !errors.Is(err, ErrCheckpointCorrupted) {
			t.Fatalf("flipped byte %d: %v", i, err)
		}
	}
}

func TestSeqCRCMatchesLibrary(t *testing.T) {
	for _, id := range []SeqNum{0, 1, 255, 256, 1 << 32, 1<<64 - 1, 0x0123456789abcdef} {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		if got, want := seqCRC(id), crc32.Checksum(b[:], castagnoli); got != want {
			t.Fatalf("seqCRC(%d) = %#x, want %#x", id, got, want)
		}
	}
}
