package wal

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestUnwindCRC(t *testing.T) {
	var seen [256]bool
	for _, v := range castagnoli {
		if seen[v>>24] {
			t.Fatalf("top byte %#x of the CRC-32C table repeats", v>>24)
		}
		seen[v>>24] = true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := make([]byte, rng.IntN(300))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		start := rng.Uint32()
		if got := unwindCRC(crc32.Update(start, castagnoli, p), p); got != start {
			t.Fatalf("unwindCRC = %#x, want %#x", got, start)
		}
		id := SeqNum(rng.Uint64())
		if got := unwindCRC(recordCRC(id, p), p); got != seqCRC(id) {
			t.Fatalf("unwindCRC of a record = %#x, want seqCRC %#x", got, seqCRC(id))
		}
	}
}

// TestTornTailPolicyCutsTornTails: under OnCorruptionTruncateTornTail, every kind of torn or
// corrupt tail with nothing valid after it is cut exactly as OnCorruptionTruncate cuts it.
func TestTornTailPolicyCutsTornTails(t *testing.T) {
	cases := append(tailCases, tailCase{"large-garbage-appended", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		rng := rand.New(rand.NewPCG(3, 4))
		g := make([]byte, 256<<10)
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		appendFile(t, path, g)
		return tailN, size
	}, false})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var keep int
			o, _ := corruptTail(t, tailN, func(path string, lastOff, size int64) {
				keep, _ = c.damage(t, path, lastOff, size)
			})
			o.OnCorruption = OnCorruptionTruncateTornTail
			w := mustOpen(t, o)
			if got := w.NextSeq("s"); got != SeqNum(keep) {
				t.Fatalf("recovered %d entries, want %d", got, keep)
			}
			checkEntries(t, w, "s", 0, keep)
			mustAppendN(t, w, "s", keep, 5)
			mustClose(t, w)
			o.OnCorruption = OnCorruptionError
			w = mustOpen(t, o) // the tail is clean now
			checkEntries(t, w, "s", 0, keep+5)
			mustClose(t, w)
		})
	}
}

// midLogDamage damages record k of the active segment, whose records start at offs.
type midLogDamage struct {
	name   string
	damage func(b []byte, offs []int64, k int)
}

var midLogDamages = []midLogDamage{
	{"flip-payload-bit", func(b []byte, offs []int64, k int) { b[offs[k]+recordHeaderLen+3] ^= 0x10 }},
	{"flip-crc-bit", func(b []byte, offs []int64, k int) { b[offs[k]] ^= 0x01 }},
	{"flip-low-length-bit", func(b []byte, offs []int64, k int) { b[offs[k]+4] ^= 0x01 }},
	{"flip-high-length-bit", func(b []byte, offs []int64, k int) { b[offs[k]+7] ^= 0x40 }},
	{"flip-flags-bit", func(b []byte, offs []int64, k int) { b[offs[k]+8] ^= 0x80 }},
	{"zero-record-header", func(b []byte, offs []int64, k int) { clear(b[offs[k] : offs[k]+recordHeaderLen]) }},
	{"zero-three-records", func(b []byte, offs []int64, k int) { clear(b[offs[k]:offs[k+3]]) }},
	{"garbage-over-two-records", func(b []byte, offs []int64, k int) {
		for i := offs[k] + 2; i < offs[k+2]-1; i++ {
			b[i] = byte(i * 7)
		}
	}},
}

// writeSegment builds stream "s" with n entries in one segment and returns the options,
// the segment's path, its bytes and the offset of every record.
func writeSegment(t *testing.T, n int, strict bool) (Options, string, []byte, []int64) {
	t.Helper()
	o := testOptions(t)
	if strict {
		o.SyncMode = SyncStrict
	}
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, n)
	s, _ := w.lookup("s")
	s.mu.Lock()
	var offs []int64
	for _, off := range s.mu.active.offsets {
		offs = append(offs, int64(off))
	}
	s.mu.Unlock()
	path := lastSegment(t, o.RootPath, "s")
	var crashed []byte
	if strict { // the file as a crash leaves it: zero-filled past the data
		var err error
		if crashed, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	if crashed != nil {
		if err := os.WriteFile(path, crashed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return o, path, b, offs
}

// TestMidLogCorruption: damage to a record that valid records follow is an error naming the
// place under OnCorruptionTruncateTornTail, and nothing is modified; OnCorruptionTruncate
// keeps cutting it as before, and OnCorruptionError keeps reporting the first bad record.
func TestMidLogCorruption(t *testing.T) {
	const n = 20
	for _, strict := range []bool{false, true} {
		for _, d := range midLogDamages {
			for _, k := range []int{0, 7, n - 4} {
				name := fmt.Sprintf("%s/k=%d", d.name, k)
				if strict {
					name += "/zero-filled"
				}
				t.Run(name, func(t *testing.T) {
					o, path, b, offs := writeSegment(t, n, strict)
					d.damage(b, offs, k)
					if err := os.WriteFile(path, b, 0o644); err != nil {
						t.Fatal(err)
					}

					o.OnCorruption = OnCorruptionTruncateTornTail
					_, err := Open(o)
					var me *MidLogCorruptionError
					if !errors.As(err, &me) || !errors.Is(err, ErrMidLogCorruption) || !errors.Is(err, ErrCorruption) {
						t.Fatalf("Open = %v, want a *MidLogCorruptionError", err)
					}
					if me.Path != path || me.Stream != "s" || me.Offset != offs[k] || me.ID != SeqNum(k) {
						t.Fatalf("error names %s %q offset %d id %d, want %s offset %d id %d (%v)",
							me.Path, me.Stream, me.Offset, me.ID, path, offs[k], k, err)
					}
					if me.ValidID <= SeqNum(k) || me.ValidID >= n || me.ValidOffset != offs[me.ValidID] {
						t.Fatalf("valid record reported at offset %d id %d (%v)", me.ValidOffset, me.ValidID, err)
					}
					var ce *CorruptionError
					var crc *CRCMismatchError
					if !errors.As(err, &ce) && !errors.As(err, &crc) {
						t.Fatalf("%v does not unwrap to the first bad record's error", err)
					}
					for _, want := range []string{path, "offset", "sequence number"} {
						if !strings.Contains(err.Error(), want) {
							t.Fatalf("%q does not mention %q", err, want)
						}
					}
					if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
						t.Fatal("the failed Open modified the segment")
					}

					o.OnCorruption = OnCorruptionError
					if _, err := Open(o); !errors.Is(err, ErrCorruption) || errors.Is(err, ErrMidLogCorruption) {
						t.Fatalf("OnCorruptionError: Open = %v", err)
					}

					o.OnCorruption = OnCorruptionTruncate // the default, unchanged
					w := mustOpen(t, o)
					if got := w.NextSeq("s"); got != SeqNum(k) {
						t.Fatalf("OnCorruptionTruncate kept %d entries, want %d", got, k)
					}
					checkEntries(t, w, "s", 0, k)
					mustClose(t, w)
					o.OnCorruption = OnCorruptionTruncateTornTail
					w = mustOpen(t, o) // cut: clean now
					checkEntries(t, w, "s", 0, k)
					mustClose(t, w)
				})
			}
		}
	}
}

// TestMidLogCorruptionInBatch: a damaged record inside an atomic batch whose later records
// are intact is mid-log damage, not an incomplete batch.
func TestMidLogCorruptionInBatch(t *testing.T) {
	o := testOptions(t)
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 3)
	if _, err := w.AppendBatch("s", [][]byte{entryFor(3), entryFor(4), entryFor(5)}); err != nil {
		t.Fatal(err)
	}
	s, _ := w.lookup("s")
	s.mu.Lock()
	off4 := int64(s.mu.active.offsets[4])
	s.mu.Unlock()
	mustClose(t, w)
	path := lastSegment(t, o.RootPath, "s")
	patchFile(t, path, off4+recordHeaderLen, func(b []byte) { b[0] ^= 1 })
	o.OnCorruption = OnCorruptionTruncateTornTail
	var me *MidLogCorruptionError
	if _, err := Open(o); !errors.As(err, &me) || me.ID != 4 || me.ValidID != 5 {
		t.Fatalf("Open = %v, want mid-log corruption at 4, valid from 5", err)
	}
}

// TestCorruptActiveHeaderTornTailPolicy: a bad header with valid records after it is an
// error; without records after it, it is rewritten as OnCorruptionTruncate does.
func TestCorruptActiveHeaderTornTailPolicy(t *testing.T) {
	for _, records := range []bool{true, false} {
		o := testOptions(t)
		o.MaxEntriesPerSegment = 5
		w := mustOpen(t, o)
		mustAppendN(t, w, "s", 0, 7) // the active segment starts at 5
		mustClose(t, w)
		path := lastSegment(t, o.RootPath, "s")
		patchFile(t, path, 0, func(b []byte) { b[3] ^= 0xff })
		if !records {
			truncateFile(t, path, headerLen("s"))
		}
		o.OnCorruption = OnCorruptionTruncateTornTail
		w, err := Open(o)
		if records {
			var me *MidLogCorruptionError
			if !errors.As(err, &me) || me.Offset != 0 || me.ID != 5 || me.ValidID != 5 {
				t.Fatalf("Open = %v, want mid-log corruption in the header", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		checkEntries(t, w, "s", 0, 5)
		mustAppendN(t, w, "s", 5, 2)
		mustClose(t, w)
	}
}

// TestFindValidRecordChainCheck: a record that passes its checksum but is followed by
// neither the end of the data nor another valid record is not taken as proof.
func TestFindValidRecordChainCheck(t *testing.T) {
	enc := encoder{}
	var data []byte
	data = enc.appendRecord(data, 10, recordTypeFull, []byte("first"))
	second := int64(len(data))
	data = enc.appendRecord(data, 11, recordTypeFull, []byte("second"))
	data = append(data, 0xff, 0x01, 0x02) // a torn third record
	src := bytes.NewReader(data)
	res, err := findValidRecord(src, "x", int64(len(data)), 0, 10)
	if err != nil || !res.found || res.off != 0 || res.id != 10 {
		t.Fatalf("chained record: %+v, %v", res, err)
	}
	// From the second record on: it is valid but followed only by a torn record.
	res, err = findValidRecord(src, "x", int64(len(data)), second, 11)
	if err != nil || res.found {
		t.Fatalf("lone record before a torn one: %+v, %v", res, err)
	}
	// Without the torn bytes it ends the data: proof.
	res, err = findValidRecord(src, "x", int64(len(data)-3), second, 11)
	if err != nil || !res.found || res.off != second || res.id != 11 {
		t.Fatalf("last record: %+v, %v", res, err)
	}
	// Records whose sequence numbers cannot be where they are: a record at offset 0 can
	// only be the first one, 9, and one 14 bytes further at most 9 + 14/9 = 10.
	res, err = findValidRecord(src, "x", int64(len(data)-3), 0, 9)
	if err != nil || res.found {
		t.Fatalf("records out of place accepted: %+v, %v", res, err)
	}
}

// TestFindValidRecordAcrossWindows: the search reads the segment a window at a time; a
// record whose header straddles a window boundary, far after the damage, is found.
func TestFindValidRecordAcrossWindows(t *testing.T) {
	for _, at := range []int{resyncWindow - 5, resyncWindow - recordHeaderLen, resyncWindow + 3} {
		data := make([]byte, at)
		for i := range data {
			data[i] = byte(i*31) | 0x80 // garbage: reserved flag bits always set
		}
		enc := encoder{}
		for id := SeqNum(500); id < 503; id++ {
			data = enc.appendRecord(data, id, recordTypeFull, bytes.Repeat([]byte{byte(id)}, 3000))
		}
		res, err := findValidRecord(bytes.NewReader(data), "x", int64(len(data)), 0, 100)
		if err != nil || !res.found || res.off != int64(at) || res.id != 500 {
			t.Fatalf("record at %d: %+v, %v", at, res, err)
		}
	}
}
