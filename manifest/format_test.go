package manifest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var goldenTime = time.Date(2026, 11, 22, 10, 30, 0, 123456789, time.UTC)

// fixtureSST is a fully populated SST, signature included.
func fixtureSST() SSTMeta {
	return SSTMeta{
		ID: "00000000000000000002-00000000000000000042-9f3a", Epoch: 2, SeqLo: 100, SeqHi: 199,
		MinKey: []byte("apple"), MaxKey: []byte("zebra"), Size: 65536,
		Checksum: "sha256:" + strings.Repeat("ab", 32),
		Signature: &SSTSignature{Algorithm: "ed25519", KeyID: "key-1",
			Hash: "sha256:" + strings.Repeat("ab", 32), Signature: bytes.Repeat([]byte{0x5a}, 64)},
		Bloom:     BloomMeta{BitsPerKey: 10, HashCount: 6, Keys: 1000, Size: 1280},
		CreatedAt: goldenTime, Level: 0, HasBlobRefs: true, EntryCount: 1000, TombstoneCount: 7,
	}
}

// fixtureEntries are one entry of each kind.
func fixtureEntries() map[string]*ManifestLogEntry {
	run := &SortedRun{ID: 3, SSTs: []SSTMeta{runSST("r1", 0, 9), runSST("r2", 10, 19)}}
	for i := range run.SSTs {
		run.SSTs[i].CreatedAt = goldenTime
	}
	return map[string]*ManifestLogEntry{
		"entry_claim": {Seq: 1, Kind: EntryClaimFence, Role: RoleWriter, Epoch: 1, Owner: "writer-a", Timestamp: goldenTime},
		"entry_add_sst": {Seq: 2, PrevHash: 0x0123456789abcdef, Kind: EntryAddSST, Role: RoleWriter, Epoch: 1,
			Owner: "writer-a", Timestamp: goldenTime, SST: ptr(fixtureSST())},
		"entry_remove_ssts": {Seq: 3, PrevHash: 42, Kind: EntryRemoveSSTs, Role: RoleCompactor, Epoch: 2,
			Owner: "compactor-b", Timestamp: goldenTime, RemovedSSTs: []string{"a", "b"}},
		"entry_compaction": {Seq: 4, PrevHash: 43, Kind: EntryCompaction, Role: RoleCompactor, Epoch: 2,
			Owner: "compactor-b", Timestamp: goldenTime, Compaction: &CompactionLogPayload{
				RemoveL0SSTs: []string{"l0-a", "l0-b"}, RemoveSortedRuns: []uint32{1, 2},
				DeleteSSTs: []string{"old"}, OutputRun: run}},
	}
}

func ptr[T any](v T) *T { return &v }

// fixtureManifest is a manifest with fences, L0 and two runs.
func fixtureManifest() *Manifest {
	m := newManifest()
	m.LogSeq, m.chain, m.NextEpoch, m.NextSortedRunID = 57, 0xfeedfacecafebeef, 3, 5
	m.WriterFence = &FenceToken{Epoch: 1, Owner: "writer-a", ClaimedAt: goldenTime}
	m.CompactorFence = &FenceToken{Epoch: 2, Owner: "compactor-b", ClaimedAt: goldenTime}
	m.L0SSTs = []SSTMeta{fixtureSST(), testSST("l0-old", 1)}
	m.SortedRuns = []SortedRun{
		{ID: 4, SSTs: []SSTMeta{runSST("r4a", 0, 4), runSST("r4b", 5, 9)}},
		{ID: 2, SSTs: []SSTMeta{runSST("r2a", 0, 9)}},
	}
	return m
}

// fixtureManifestV2 is fixtureManifest with a writer history (snapshot format version 2).
func fixtureManifestV2() *Manifest {
	m := fixtureManifest()
	m.NextEpoch = 6
	m.WriterFence.Epoch = 5
	m.WriterHistory = []WriterTenure{{Epoch: 1, EndSeq: 99}, {Epoch: 3, EndSeq: 199}, {Epoch: 4, EndSeq: 1 << 40}}
	return m
}

func TestEntryRoundTrip(t *testing.T) {
	for name, e := range fixtureEntries() {
		t.Run(name, func(t *testing.T) {
			data := encodeEntry(e)
			got, err := DecodeLogEntry(name, data)
			if err != nil {
				t.Fatal(err)
			}
			if again := encodeEntry(got); !bytes.Equal(again, data) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, data)
			}
			if got.String() != e.String() {
				t.Fatalf("decoded %s, want %s", got, e)
			}
			if e.Kind == EntryAddSST && !equalSST(got.SST, e.SST) {
				t.Fatalf("sst %+v, want %+v", got.SST, e.SST)
			}
			if !got.Timestamp.Equal(e.Timestamp) || got.Owner != e.Owner || got.PrevHash != e.PrevHash {
				t.Fatalf("header fields differ: %+v vs %+v", got, e)
			}
		})
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, m := range []*Manifest{fixtureManifest(), {Version: 1, LogSeq: 1, NextEpoch: 2, NextSortedRunID: 1}} {
		data := encodeSnapshot(m)
		got, err := DecodeSnapshot("snap", data)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "round trip", got, m)
		if again := encodeSnapshot(got); !bytes.Equal(again, data) {
			t.Fatal("re-encoding differs")
		}
	}
}

func TestDigestEncoding(t *testing.T) {
	for _, s := range []string{"", "sha256:" + strings.Repeat("0f", 32), "sha256:" + strings.Repeat("0F", 32),
		"sha256:short", "md5:abc", "sha256:" + strings.Repeat("zz", 32)} {
		var enc encoder
		encodeDigest(&enc, s)
		d := decoder{b: enc.b}
		if got := decodeDigest(&d); got != s || d.err != nil {
			t.Errorf("%q: decoded %q, %v", s, got, d.err)
		}
		if _, canonical := canonicalSHA256(s); canonical && len(enc.b) != 33 {
			t.Errorf("%q: %d bytes, want the 33-byte raw form", s, len(enc.b))
		}
	}
}

func TestTimeEncoding(t *testing.T) {
	for _, tm := range []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 999999999), goldenTime,
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Now()} {
		var enc encoder
		enc.time(tm)
		d := decoder{b: enc.b}
		got := d.time()
		d.done()
		if d.err != nil || !got.Equal(tm) || got.IsZero() != tm.IsZero() {
			t.Errorf("%v: decoded %v, %v", tm, got, d.err)
		}
	}
}

// TestGolden pins the byte format: a change to any encoding shows up as a diff of the
// files in testdata/. Regenerate with go test -run TestGolden -update.
func TestGolden(t *testing.T) {
	objects := map[string][]byte{"snapshot_v2": encodeSnapshot(fixtureManifestV2())}
	for name, e := range fixtureEntries() {
		objects[name] = encodeEntry(e)
	}
	for name, data := range objects {
		path := filepath.Join("testdata", name+".golden")
		text := hexDump(name, data)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if string(want) != text {
			t.Errorf("%s: encoding changed; diff the golden file (go test -run TestGolden -update)\ngot:\n%s", name, text)
		}
		// The golden bytes decode, and to the fixture.
		raw := parseHexDump(t, string(want))
		if strings.HasPrefix(name, "entry") {
			if _, err := DecodeLogEntry(path, raw); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		} else if m, err := DecodeSnapshot(path, raw); err != nil {
			t.Errorf("%s: %v", name, err)
		} else {
			mustEqual(t, name, m, fixtureManifestV2())
		}
	}
	// Version 1 snapshots (no writer history) stay readable.
	want, err := os.ReadFile(filepath.Join("testdata", "snapshot.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := DecodeSnapshot("snapshot.golden", parseHexDump(t, string(want))); err != nil {
		t.Errorf("version 1 snapshot: %v", err)
	} else {
		mustEqual(t, "snapshot v1", m, fixtureManifest())
	}
}

// hexDump formats data as commented hex lines of 16 bytes.
func hexDump(name string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %d bytes, manifest format v%d (generated by TestGolden -update)\n", name, len(data), binary.LittleEndian.Uint16(data[4:]))
	for off := 0; off < len(data); off += 16 {
		end := min(off+16, len(data))
		fmt.Fprintf(&b, "%06x  %s\n", off, hex.EncodeToString(data[off:end]))
	}
	return b.String()
}

func parseHexDump(t *testing.T, text string) []byte {
	var out []byte
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_, h, _ := strings.Cut(line, "  ")
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestDecodeDamaged flips every bit and cuts every prefix of each fixture: every result
// must be an error matching ErrCorruption (the CRC catches flips), never a panic.
func TestDecodeDamaged(t *testing.T) {
	objects := map[string][]byte{"snapshot": encodeSnapshot(fixtureManifest())}
	for name, e := range fixtureEntries() {
		objects[name] = encodeEntry(e)
	}
	for name, data := range objects {
		decode := func(b []byte) error {
			if name == "snapshot" {
				_, err := DecodeSnapshot(name, b)
				return err
			}
			_, err := DecodeLogEntry(name, b)
			return err
		}
		for i := 0; i < len(data)*8; i++ {
			b := bytes.Clone(data)
			b[i/8] ^= 1 << (i % 8)
			if err := decode(b); !errors.Is(err, ErrCorruption) {
				t.Fatalf("%s: bit %d flipped: err = %v, want corruption", name, i, err)
			}
		}
		for n := 0; n < len(data); n++ {
			if err := decode(data[:n]); !errors.Is(err, ErrCorruption) {
				t.Fatalf("%s: cut to %d bytes: err = %v, want corruption", name, n, err)
			}
		}
		if err := decode(append(bytes.Clone(data), 0)); !errors.Is(err, ErrCorruption) {
			t.Fatalf("%s: trailing byte: err = %v", name, err)
		}
	}
	// The wrong magic: an entry is not a snapshot.
	if _, err := DecodeSnapshot("x", encodeEntry(fixtureEntries()["entry_claim"])); !errors.Is(err, ErrCorruption) {
		t.Fatalf("entry decoded as snapshot: %v", err)
	}
}

// reframe recomputes the header of a damaged object, so the damage reaches the body
// decoder past the checksum.
func reframe(data []byte) []byte {
	if len(data) < headerLen {
		return data
	}
	b := bytes.Clone(data)
	return frame(b, string(b[0:4]), binary.LittleEndian.Uint16(b[4:]))
}

// TestDecodeDamagedBody damages bodies behind a valid checksum: the body decoder itself
// must reject or survive every byte value at every position.
func TestDecodeDamagedBody(t *testing.T) {
	objects := map[string][]byte{"snapshot": encodeSnapshot(fixtureManifest())}
	for name, e := range fixtureEntries() {
		objects[name] = encodeEntry(e)
	}
	for name, data := range objects {
		for i := headerLen; i < len(data); i++ {
			for _, v := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff, data[i] + 1} {
				b := bytes.Clone(data)
				b[i] = v
				b = reframe(b)
				var err error
				if name == "snapshot" {
					_, err = DecodeSnapshot(name, b)
				} else {
					_, err = DecodeLogEntry(name, b)
				}
				if err != nil && !errors.Is(err, ErrCorruption) {
					t.Fatalf("%s: byte %d = %#x: error %v does not match ErrCorruption", name, i, v, err)
				}
			}
		}
	}
}

func FuzzDecodeLogEntry(f *testing.F) {
	for _, e := range fixtureEntries() {
		data := encodeEntry(e)
		f.Add(data)
		f.Add(data[headerLen:]) // a body alone: the fuzzer reframes it below
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, reframe(append([]byte(entryMagic+"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), data...))} {
			e, err := DecodeLogEntry("fuzz", b)
			if err != nil {
				if !errors.Is(err, ErrCorruption) {
					t.Fatalf("error %v does not match ErrCorruption", err)
				}
				continue
			}
			// What decodes re-encodes to something that decodes to the same entry.
			again, err := DecodeLogEntry("fuzz", encodeEntry(e))
			if err != nil || again.String() != e.String() {
				t.Fatalf("re-decoding: %v, %v vs %v", err, again, e)
			}
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	data := encodeSnapshot(fixtureManifest())
	f.Add(data)
	f.Add(data[headerLen:])
	f.Add(encodeSnapshot(&Manifest{Version: 1, LogSeq: 1, NextEpoch: 1})[headerLen:])
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, reframe(append([]byte(snapshotMagic+"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), data...))} {
			m, err := DecodeSnapshot("fuzz", b)
			if err != nil {
				if !errors.Is(err, ErrCorruption) {
					t.Fatalf("error %v does not match ErrCorruption", err)
				}
				continue
			}
			again, err := DecodeSnapshot("fuzz", encodeSnapshot(m))
			if err != nil || !again.Equal(m) {
				t.Fatalf("re-decoding: %v", err)
			}
		}
	})
}
