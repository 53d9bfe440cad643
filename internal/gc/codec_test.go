package gc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

func TestGCMarksRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		marks := Marks{}
		for range rng.IntN(20) {
			id := fmt.Sprintf("%020d-%020d-%08x", rng.Uint64N(100), rng.Uint64(), rng.Uint32())
			marks[id] = Mark{RemovedAt: rng.Int64N(1 << 62), Epoch: rng.Uint64(), Flags: uint8(rng.IntN(8)), Size: rng.Int64N(1 << 40)}
		}
		got, err := DecodeMarks(EncodeMarks(marks))
		if err != nil || !maps.Equal(got, marks) {
			t.Fatalf("round trip of %v = %v, %v", marks, got, err)
		}
		c := Checkpoint{LastBlobGC: rng.Int64(), LogSeq: rng.Uint64(), BlobsDeleted: rng.Uint64(), Blobs: map[[32]byte]BlobEntry{}}
		for range rng.IntN(20) {
			var h [32]byte
			for i := range h {
				h[i] = byte(rng.IntN(256))
			}
			c.Blobs[h] = BlobEntry{State: uint8(1 + rng.IntN(2)), MarkedAt: rng.Int64N(1 << 62), Size: rng.Int64N(1 << 40)}
		}
		if got, err := DecodeCheckpoint(EncodeCheckpoint(c)); err != nil || !checkpointsEqual(got, c) {
			t.Fatalf("checkpoint round trip of %v = %v, %v", c, got, err)
		}
	}
}

// TestGCFormatGolden pins the bytes of both GC objects: a change here is a format change.
func TestGCFormatGolden(t *testing.T) {
	marks := Marks{
		"a": {RemovedAt: 0, Epoch: 3, Flags: MarkRefsKnown | MarkBlobRefs, Size: 4096},
		"b": {RemovedAt: 1_700_000_000_000_000_000, Flags: MarkOrphan, Size: 10},
	}
	const wantMarks = "4947434d01020161000303802001628080d0e2c6bfce972f00040aedaae242"
	if got := hex.EncodeToString(EncodeMarks(marks)); got != wantMarks {
		t.Errorf("marks encode to %s, want %s", got, wantMarks)
	}
	// Version 1 of the checkpoint is no longer written, and still read.
	const ckpV1 = "49474343018080a8b1e39fe7cb172a0745476927"
	v1, _ := hex.DecodeString(ckpV1)
	if got, err := DecodeCheckpoint(v1); err != nil || !checkpointsEqual(got, Checkpoint{LastBlobGC: 850_000_000_000_000_000, LogSeq: 42, BlobsDeleted: 7}) {
		t.Errorf("checkpoint v1 %s decodes to %+v, %v", ckpV1, got, err)
	}
	// Version 2: one candidate not yet stamped, one stamped, one doomed.
	ckp := Checkpoint{LastBlobGC: 850_000_000_000_000_000, LogSeq: 42, BlobsDeleted: 7, Blobs: map[[32]byte]BlobEntry{
		{0x01}:       {State: BlobCandidate, Size: 300},
		{0x02, 0xff}: {State: BlobCandidate, MarkedAt: 1_700_000_000_000_000_000, Size: 1 << 20},
		{0xab}:       {State: BlobDoomed, MarkedAt: 5, Size: 1},
	}}
	const wantCkp = "49474343028080a8b1e39fe7cb172a0703" +
		"0100000000000000000000000000000000000000000000000000000000000000" + "0100ac02" +
		"02ff000000000000000000000000000000000000000000000000000000000000" + "018080d0e2c6bfce972f808040" +
		"ab00000000000000000000000000000000000000000000000000000000000000" + "020a01" +
		"1acbc79c"
	if got := hex.EncodeToString(EncodeCheckpoint(ckp)); got != wantCkp {
		t.Errorf("checkpoint encodes to %s, want %s", got, wantCkp)
	}
	v2, _ := hex.DecodeString(wantCkp)
	if got, err := DecodeCheckpoint(v2); err != nil || !checkpointsEqual(got, ckp) {
		t.Errorf("checkpoint v2 decodes to %+v, %v", got, err)
	}
}

func checkpointsEqual(a, b Checkpoint) bool {
	return a.LastBlobGC == b.LastBlobGC && a.LogSeq == b.LogSeq && a.BlobsDeleted == b.BlobsDeleted && maps.Equal(a.Blobs, b.Blobs)
}

func FuzzDecodeGCMarks(f *testing.F) {
	f.Add(EncodeMarks(Marks{"x": {Epoch: 1, Size: 5}, "y": {RemovedAt: 9, Flags: MarkOrphan}}))
	f.Add(EncodeMarks(Marks{}))
	f.Add([]byte("IGCM\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		marks, err := DecodeMarks(data)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			return
		}
		again, err := DecodeMarks(EncodeMarks(marks))
		if err != nil || !maps.Equal(again, marks) {
			t.Fatalf("re-encoding %v gives %v, %v", marks, again, err)
		}
	})
}

func FuzzDecodeGCCheckpoint(f *testing.F) {
	f.Add(EncodeCheckpoint(Checkpoint{LastBlobGC: 5, LogSeq: 6, BlobsDeleted: 7}))
	f.Add(EncodeCheckpoint(Checkpoint{LastBlobGC: 5, Blobs: map[[32]byte]BlobEntry{{1}: {State: BlobCandidate, Size: 3}, {2}: {State: BlobDoomed, MarkedAt: 9}}}))
	v1, _ := hex.DecodeString("49474343018080a8b1e39fe7cb172a0745476927")
	f.Add(v1)
	f.Add([]byte("IGCC"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCheckpoint(data)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			return
		}
		if again, err := DecodeCheckpoint(EncodeCheckpoint(c)); err != nil || !checkpointsEqual(again, c) {
			t.Fatalf("re-encoding %v gives %v, %v", c, again, err)
		}
	})
}

func TestGCCorruptMarksDecode(t *testing.T) {
	good := EncodeMarks(Marks{"x": {Epoch: 1, Size: 5}})
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x40
		if _, err := DecodeMarks(bad); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flipping byte %d: %v", i, err)
		}
	}
}

// TestGCCorruptMarksDecode (continued): marks of a version this release does not read, with a
// sound checksum, decode to ErrStateVersion (a newer release's; left alone by a pass, see
// the root's TestGCCorruptMarks), not to plain damage.
func TestGCMarksNewerVersion(t *testing.T) {
	newer := bytes.Clone(EncodeMarks(Marks{"x": {Epoch: 1, Size: 5}}))
	newer = newer[:len(newer)-4]
	newer[len(MarksMagic)] = MarksVersion + 1
	newer = binary.LittleEndian.AppendUint32(newer, crc32.Checksum(newer, crc32.MakeTable(crc32.Castagnoli)))
	if _, err := DecodeMarks(newer); !errors.Is(err, base.ErrCorruption) || !errors.Is(err, ErrStateVersion) {
		t.Fatalf("marks of a newer version decode to %v", err)
	}
}
