package gc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/isledb/isledb/manifest"
)

// The GC checkpoint, "gc/checkpoint". Version 2 (written; docs/format.md):
//
//	+--------+---------+------------+---------+--------------+---------+--------------+-----------------+
//	| "IGCC" | version | lastBlobGC | logSeq  | blobsDeleted | count   | count × blob | CRC-32C (LE)    |
//	| 4 B    | 1 B = 2 | varint     | uvarint | uvarint      | uvarint |              | 4 B, of all     |
//	|        |         |            |         |              |         |              | bytes before it |
//	+--------+---------+------------+---------+--------------+---------+--------------+-----------------+
//
//	blob:
//	+---------+-------+----------+---------+
//	| hash    | state | markedAt | size    |
//	| 32 B    | 1 B   | varint   | uvarint |
//	+---------+-------+----------+---------+
//
// lastBlobGC is when blob GC last marked (unix nanoseconds, 0: never); logSeq the manifest
// position it ran against; blobsDeleted how many blobs it has deleted in all (counted from
// a random value with bit 63 set after a damaged checkpoint was rebuilt: writers only
// compare it for change). The blobs are
// the blob GC state, sorted by hash (the blob's SHA-256, its name), hashes unique: state 1
// is a candidate, 2 doomed; markedAt the candidate's stamp (unix nanoseconds; 0: not yet
// stamped); size the blob's size in bytes.
//
// Version 1 (frozen, still read, no longer written) is version 2 without count and blobs:
//
//	+--------+---------+------------+---------+--------------+-----------------+
//	| "IGCC" | version | lastBlobGC | logSeq  | blobsDeleted | CRC-32C (LE)    |
//	| 4 B    | 1 B = 1 | varint     | uvarint | uvarint      | 4 B, of all     |
//	|        |         |            |         |              | bytes before it |
//	+--------+---------+------------+---------+--------------+-----------------+
const (
	CheckpointMagic   = "IGCC"
	CheckpointVersion = 2

	BlobCandidate = 1
	BlobDoomed    = 2

	blobEntryMinSize = 32 + 1 + 1 + 1
)

// Checkpoint is the GC checkpoint: the blob GC run times and state.
type Checkpoint struct {
	// LastBlobGC is when blob GC last marked (unix nanoseconds, 0: never).
	LastBlobGC int64
	// LogSeq is the manifest position blob GC last ran against.
	LogSeq uint64
	// BlobsDeleted counts the blobs blob GC has deleted (writers compare it for change).
	BlobsDeleted uint64
	// Blobs is the blob GC state, by blob hash; never nil once loaded or decoded.
	Blobs map[[32]byte]BlobEntry
}

// BlobEntry is one blob's blob GC state.
type BlobEntry struct {
	// State is BlobCandidate or BlobDoomed.
	State uint8
	// MarkedAt is a candidate's stamp (unix nanoseconds; 0: not yet stamped).
	MarkedAt int64
	// Size is the blob's size in bytes.
	Size int64
}

// doomed counts the doomed blobs.
func (c *Checkpoint) doomed() int {
	n := 0
	for _, e := range c.Blobs {
		if e.State == BlobDoomed {
			n++
		}
	}
	return n
}

// EncodeCheckpoint encodes c (version 2).
func EncodeCheckpoint(c Checkpoint) []byte {
	b := make([]byte, 0, 32+len(c.Blobs)*(blobEntryMinSize+12))
	b = append(append(b, CheckpointMagic...), CheckpointVersion)
	b = binary.AppendVarint(b, c.LastBlobGC)
	b = binary.AppendUvarint(b, c.LogSeq)
	b = binary.AppendUvarint(b, c.BlobsDeleted)
	b = binary.AppendUvarint(b, uint64(len(c.Blobs)))
	hashes := slices.SortedFunc(maps.Keys(c.Blobs), func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, h := range hashes {
		e := c.Blobs[h]
		b = append(b, h[:]...)
		b = append(b, e.State)
		b = binary.AppendVarint(b, e.MarkedAt)
		b = binary.AppendUvarint(b, uint64(e.Size))
	}
	return appendCRC(b)
}

// DecodeCheckpoint decodes version 1 or 2. Damage is a base.ErrCorruption; a version this
// release does not read is ErrStateVersion as well.
func DecodeCheckpoint(data []byte) (Checkpoint, error) {
	// Version 1 is still read; any other version is checked against the CRC first, so
	// damage reads as damage, then refused as unsupported.
	want := byte(CheckpointVersion)
	if len(data) > len(CheckpointMagic) && data[len(CheckpointMagic)] == 1 {
		want = 1
	}
	d, err := openObject(manifest.GCCheckpointKey, data, CheckpointMagic, want)
	if err != nil {
		return Checkpoint{}, err
	}
	version := want
	c := Checkpoint{Blobs: map[[32]byte]BlobEntry{}}
	c.LastBlobGC = d.varint("last blob gc")
	c.LogSeq = d.uvarint("log seq")
	c.BlobsDeleted = d.uvarint("blobs deleted")
	if version >= 2 {
		n := d.uvarint("blob count")
		if n > uint64(len(d.b))/blobEntryMinSize {
			d.fail("blob count")
		}
		var prev []byte
		for i := uint64(0); i < n && d.err == nil; i++ {
			h := d.bytes(32, "blob hash")
			st := d.bytes(1, "blob state")
			markedAt := d.varint("blob stamp")
			size := d.uvarint("blob size")
			if d.err != nil {
				break
			}
			if (prev != nil && bytes.Compare(prev, h) >= 0) || (st[0] != BlobCandidate && st[0] != BlobDoomed) || markedAt < 0 || size > 1<<62 {
				d.fail("blob " + hex.EncodeToString(h))
				break
			}
			prev = h
			c.Blobs[[32]byte(h)] = BlobEntry{State: st[0], MarkedAt: markedAt, Size: int64(size)}
		}
	}
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Checkpoint{}, d.err
	}
	return c, nil
}

// checkpointObject is gc/checkpoint in storage, for the collector and the writers alike.
// An absent checkpoint is empty. A damaged one is replaced with a fresh one (see "Damaged
// GC state"): no blob GC state (nothing doomed), no last run, and blobsDeleted at a random
// value with the top bit set, so that a writer that read it before the damage sees it
// change.
func checkpointObject(s manifest.GCMarkStorage) *stateObject[*Checkpoint] {
	return &stateObject[*Checkpoint]{
		key: manifest.GCCheckpointKey, name: "checkpoint",
		load: s.LoadGCCheckpoint, store: s.StoreGCCheckpoint,
		decode: func(b []byte) (*Checkpoint, error) {
			c, err := DecodeCheckpoint(b)
			return &c, err
		},
		encode: func(c *Checkpoint) []byte { return EncodeCheckpoint(*c) },
		empty:  func() *Checkpoint { return &Checkpoint{Blobs: map[[32]byte]BlobEntry{}} },
		fresh: func() []byte {
			return EncodeCheckpoint(Checkpoint{BlobsDeleted: rand.Uint64() | 1<<63, Blobs: map[[32]byte]BlobEntry{}})
		},
		lost: "blob GC restarts its candidates from scratch (nothing doomed); writers re-check their blobs",
	}
}
