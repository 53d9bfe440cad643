package gc

import (
	"encoding/binary"
	"maps"
	"slices"
	"strconv"

	"github.com/isledb/isledb/manifest"
)

// The pending delete marks, "gc/marks" (version 1, frozen):
//
//	+--------+---------+-----------+------------------+-----------------+
//	| "IGCM" | version | count     | count × mark     | CRC-32C (LE)    |
//	| 4 B    | 1 B = 1 | uvarint   |                  | 4 B, of all     |
//	|        |         |           |                  | bytes before it |
//	+--------+---------+-----------+------------------+-----------------+
//
//	mark:
//	+---------+--------+-----------+---------+-------+---------+
//	| id len  | id     | removedAt | epoch   | flags | size    |
//	| uvarint | bytes  | varint    | uvarint | 1 B   | uvarint |
//	+---------+--------+-----------+---------+-------+---------+
//
// Marks are sorted by id, ids unique. removedAt is when a GC pass first saw the SST out of
// the manifest, in unix nanoseconds; 0 marks an intent (a compaction of compactor epoch
// `epoch` is about to remove the SST). flags: bit 0 the SST holds blob references, bit 1
// bit 0 is known (from the manifest), bit 2 the SST was found in no manifest (orphan).
const (
	MarksMagic   = "IGCM"
	MarksVersion = 1

	MarkBlobRefs  = 1 << 0
	MarkRefsKnown = 1 << 1
	MarkOrphan    = 1 << 2
)

// Mark is one SST's pending delete mark.
type Mark struct {
	// RemovedAt is when a pass first saw the SST out of the manifest (unix nanoseconds;
	// 0: an intent).
	RemovedAt int64
	// Epoch is the compactor epoch of an intent.
	Epoch uint64
	// Flags are MarkBlobRefs, MarkRefsKnown and MarkOrphan.
	Flags uint8
	// Size is the SST object's size in bytes.
	Size int64
}

// Marks are the pending delete marks, by SST id.
type Marks map[string]Mark

// EncodeMarks encodes marks (version 1).
func EncodeMarks(marks Marks) []byte {
	b := append([]byte(MarksMagic), MarksVersion)
	b = binary.AppendUvarint(b, uint64(len(marks)))
	for _, id := range slices.Sorted(maps.Keys(marks)) {
		mk := marks[id]
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		b = binary.AppendVarint(b, mk.RemovedAt)
		b = binary.AppendUvarint(b, mk.Epoch)
		b = append(b, mk.Flags)
		b = binary.AppendUvarint(b, uint64(mk.Size))
	}
	return appendCRC(b)
}

// DecodeMarks decodes marks. Damage is a base.ErrCorruption; a version this release does
// not read is ErrStateVersion as well.
func DecodeMarks(data []byte) (Marks, error) {
	d, err := openObject(manifest.GCMarksKey, data, MarksMagic, MarksVersion)
	if err != nil {
		return nil, err
	}
	n := d.uvarint("count")
	if n > uint64(len(data)) {
		d.fail("count")
	}
	marks := make(Marks, min(n, 1<<16))
	for i := uint64(0); i < n && d.err == nil; i++ {
		id := string(d.bytes(d.uvarint("id length"), "id"))
		var mk Mark
		mk.RemovedAt = d.varint("removal time")
		mk.Epoch = d.uvarint("epoch")
		if f := d.bytes(1, "flags"); f != nil {
			mk.Flags = f[0]
		}
		size := d.uvarint("size")
		if d.err != nil {
			break
		}
		if _, dup := marks[id]; dup || id == "" || size > 1<<62 || mk.RemovedAt < 0 {
			d.fail("mark " + strconv.Quote(id))
			break
		}
		mk.Size = int64(size)
		marks[id] = mk
	}
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return marks, nil
}

// marksObject is gc/marks in storage. A damaged one is replaced with empty marks: the
// pass that follows marks every SST out of the manifest anew, stamped with its own time.
func marksObject(s manifest.GCMarkStorage) *stateObject[Marks] {
	return &stateObject[Marks]{
		key: manifest.GCMarksKey, name: "marks",
		load: s.LoadPendingDeleteMarks, store: s.StorePendingDeleteMarks,
		decode: DecodeMarks, encode: EncodeMarks, empty: func() Marks { return Marks{} },
		fresh: func() []byte { return EncodeMarks(Marks{}) },
		lost:  "every SST out of the manifest is marked again and deleted a full grace period from now",
	}
}
