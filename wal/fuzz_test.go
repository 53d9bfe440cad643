package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// decodeSegment decodes a whole segment image the way recovery does: the header, then every
// record of every complete commit unit. Under OnCorruptionError any bad byte is an error;
// under OnCorruptionTruncate the entries before the first problem are returned without error
// (a bad header is an error under both).
func decodeSegment(data []byte, policy CorruptionPolicy) (segmentHeader, [][]byte, error) {
	h, n, err := decodeSegmentHeader(data, "fuzz")
	if err != nil {
		return h, nil, err
	}
	rr := newRecordReader(data, nil, int64(len(data)), "fuzz", int64(n), h.start, 0)
	offsets, _, bad := scanUnits(rr)
	if bad != nil && policy == OnCorruptionError {
		return h, nil, bad
	}
	var entries [][]byte
	for i, off := range offsets {
		flags, payload, _, err := parseRecord(data[off:], h.start+SeqNum(i), int64(off), "fuzz")
		if err != nil {
			return h, nil, err // scanUnits accepted it: cannot happen
		}
		e, err := decodePayload(nil, flags, payload, true, int64(off), "fuzz")
		if err != nil {
			if policy == OnCorruptionError {
				return h, nil, err
			}
			break
		}
		entries = append(entries, e)
	}
	return h, entries, nil
}

// fixCRCs rewrites the header and record checksums of a segment image, so that the fuzzer
// can explore the structure behind them.
func fixCRCs(data []byte) {
	if len(data) < segmentHeaderFixedLen {
		return
	}
	n := int(binary.LittleEndian.Uint16(data[20:]))
	if n > MaxStreamNameLen || len(data) < segmentHeaderFixedLen+n {
		return
	}
	binary.LittleEndian.PutUint32(data[22+n:], crc32.Checksum(data[:22+n], castagnoli))
	id := SeqNum(binary.LittleEndian.Uint64(data[12:]))
	for off := segmentHeaderFixedLen + n; off+recordHeaderLen <= len(data); id++ {
		end := off + recordHeaderLen + int(binary.LittleEndian.Uint32(data[off+4:]))
		if end > len(data) || end < off {
			return
		}
		binary.LittleEndian.PutUint32(data[off:], recordCRC(id, data[off+4:end]))
		off = end
	}
}

func FuzzSegmentReader(f *testing.F) {
	if golden, err := os.ReadFile(filepath.Join("testdata", "segment-v1.golden")); err == nil {
		f.Add(golden, false)
		f.Add(golden, true)
		f.Add(golden[:len(golden)-3], false)
		f.Add(append(bytes.Clone(golden), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), false)
		f.Add(append(bytes.Clone(golden), 1, 2, 3), true)
	}
	enc := encoder{compression: CompressionLZ4, minCompress: 1}
	seg := appendSegmentHeader(nil, segmentHeader{stream: "s", start: 3})
	seg = enc.appendRecord(seg, 3, recordTypeBatchMore, []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
	seg = enc.appendRecord(seg, 4, recordTypeFull, []byte("b"))
	f.Add(seg, false)
	f.Add(seg, true)
	f.Add([]byte{}, false)

	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if fix {
			data = bytes.Clone(data)
			fixCRCs(data)
		}
		_, strict, errStrict := decodeSegment(data, OnCorruptionError)
		if errStrict != nil && !errors.Is(errStrict, ErrCorruption) {
			t.Fatalf("error not marked as corruption: %v", errStrict)
		}
		_, lenient, errLenient := decodeSegment(data, OnCorruptionTruncate)
		if errLenient != nil && !errors.Is(errLenient, ErrCorruption) {
			t.Fatalf("error not marked as corruption: %v", errLenient)
		}
		if errStrict == nil {
			if errLenient != nil || len(lenient) != len(strict) {
				t.Fatalf("policies disagree on a clean segment: %d vs %d entries, %v", len(strict), len(lenient), errLenient)
			}
			for i := range strict {
				if !bytes.Equal(strict[i], lenient[i]) {
					t.Fatalf("entry %d differs between policies", i)
				}
			}
		}
		// The file-backed reader must agree with the in-memory one.
		if len(data) >= segmentHeaderFixedLen {
			if h, n, err := decodeSegmentHeader(data, "fuzz"); err == nil {
				a := newRecordReader(data, nil, int64(len(data)), "fuzz", int64(n), h.start, 0)
				b := newRecordReader(nil, bytes.NewReader(data), int64(len(data)), "fuzz", int64(n), h.start, 7)
				oa, ea, errA := scanUnits(a)
				ob, eb, errB := scanUnits(b)
				if len(oa) != len(ob) || ea != eb || (errA == nil) != (errB == nil) {
					t.Fatalf("readers disagree: %d/%d records, end %d/%d, %v / %v", len(oa), len(ob), ea, eb, errA, errB)
				}
				if errA != nil {
					// What OnCorruptionTruncateTornTail searches: a record it reports after
					// the damage must really pass its check at a sequence number it can have.
					from, first := a.off+recordHeaderLen, a.id+1
					res, err := findValidRecord(bytes.NewReader(data), "fuzz", int64(len(data)), from, first)
					if err != nil {
						t.Fatalf("findValidRecord: %v", err)
					}
					if res.found {
						if res.off < from || res.id < first || res.id > first+SeqNum((res.off-from)/recordHeaderLen) {
							t.Fatalf("record %d at offset %d is out of place (search from %d, id %d)", res.id, res.off, from, first)
						}
						if _, _, _, err := parseRecord(data[res.off:], res.id, res.off, "fuzz"); err != nil {
							t.Fatalf("reported record does not verify: %v", err)
						}
					}
				}
			}
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	var lz encoder
	lz.compression, lz.minCompress = CompressionLZ4, 1
	rec := lz.appendRecord(nil, 0, recordTypeFull, bytes.Repeat([]byte("xyz"), 40))
	f.Add(rec[recordHeaderLen:])
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0x3f, 0x1f, 0x00})
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := decodePayload(nil, recordTypeFull|recordFlagLZ4, payload, true, 0, "fuzz")
		if err != nil {
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("error not marked as corruption: %v", err)
			}
			return
		}
		if len(payload) >= 4 && len(got) != int(binary.LittleEndian.Uint32(payload)) {
			t.Fatalf("decoded %d bytes, header says %d", len(got), binary.LittleEndian.Uint32(payload))
		}
	})
}

func FuzzCheckpointDecode(f *testing.F) {
	id, d := goldenCheckpoint()
	f.Add(appendCheckpoint(nil, id, d))
	f.Add([]byte(checkpointMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		uid, cd, err := decodeCheckpoint(b, "fuzz")
		if err != nil {
			if !errors.Is(err, ErrCheckpointCorrupted) {
				t.Fatalf("error not marked: %v", err)
			}
			return
		}
		// A checkpoint that decodes re-encodes to the same bytes.
		if again := appendCheckpoint(nil, uid, cd); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
