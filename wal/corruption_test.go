package wal

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// corruptTail builds a stream "s" of n entries (the last one large enough to cut into),
// closes the WAL, applies damage to the last segment file, and returns the options, the
// offset of the last record, and the file size before damage.
func corruptTail(t *testing.T, n int, damage func(path string, lastOff, size int64)) (Options, int64) {
	t.Helper()
	o := testOptions(t)
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, n)
	s, _ := w.lookup("s")
	s.mu.Lock()
	lastOff := int64(s.mu.active.offsets[n-1])
	s.mu.Unlock()
	mustClose(t, w)
	path := lastSegment(t, o.RootPath, "s")
	damage(path, lastOff, fileSize(t, path))
	return o, lastOff
}

func truncateFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func patchFile(t *testing.T, path string, off int64, f func(b []byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f(b[off:])
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

type tailCase struct {
	name string
	// damage returns how many entries survive and the offset Error must report.
	damage func(t *testing.T, path string, lastOff, size int64) (keep int, badOff int64)
	crc    bool // the Error policy reports a *CRCMismatchError
}

const tailN = 20

var tailCases = []tailCase{
	{"cut-in-header", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		truncateFile(t, path, lastOff+4)
		return tailN - 1, lastOff
	}, false},
	{"cut-in-payload", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		truncateFile(t, path, size-3)
		return tailN - 1, lastOff
	}, false},
	{"flip-payload-bit", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		patchFile(t, path, size-2, func(b []byte) { b[0] ^= 0x04 })
		return tailN - 1, lastOff
	}, true},
	{"flip-length-bit", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		patchFile(t, path, lastOff+4, func(b []byte) { b[0] ^= 0x01 })
		return tailN - 1, lastOff
	}, false},
	{"flip-crc-bit", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		patchFile(t, path, lastOff, func(b []byte) { b[1] ^= 0x80 })
		return tailN - 1, lastOff
	}, true},
	{"garbage-appended", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		appendFile(t, path, []byte("\x07garbage that is not a record"))
		return tailN, size
	}, false},
	{"short-garbage-appended", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		appendFile(t, path, []byte{1, 2, 3})
		return tailN, size
	}, false},
	{"zero-tail-then-garbage", func(t *testing.T, path string, lastOff, size int64) (int, int64) {
		appendFile(t, path, append(make([]byte, 100), 9))
		return tailN, size
	}, false},
}

func TestTornTailTruncatePolicy(t *testing.T) {
	for _, c := range tailCases {
		t.Run(c.name, func(t *testing.T) {
			var keep int
			o, _ := corruptTail(t, tailN, func(path string, lastOff, size int64) {
				keep, _ = c.damage(t, path, lastOff, size)
			})
			w := mustOpen(t, o)
			if got := w.NextSeq("s"); got != SeqNum(keep) {
				t.Fatalf("recovered %d entries, want %d", got, keep)
			}
			checkEntries(t, w, "s", 0, keep)
			// Appends continue right after the last good record.
			mustAppendN(t, w, "s", keep, 5)
			mustClose(t, w)
			o.OnCorruption = OnCorruptionError
			w = mustOpen(t, o) // the tail is clean now
			checkEntries(t, w, "s", 0, keep+5)
			mustClose(t, w)
		})
	}
}

func TestTornTailErrorPolicy(t *testing.T) {
	for _, c := range tailCases {
		t.Run(c.name, func(t *testing.T) {
			var badOff int64
			o, _ := corruptTail(t, tailN, func(path string, lastOff, size int64) {
				_, badOff = c.damage(t, path, lastOff, size)
			})
			o.OnCorruption = OnCorruptionError
			_, err := Open(o)
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("Open = %v, want corruption", err)
			}
			var off int64
			var crc *CRCMismatchError
			var ce *CorruptionError
			switch {
			case errors.As(err, &crc):
				off = crc.Offset
				if crc.Expected == crc.Actual {
					t.Fatalf("CRC error with equal CRCs: %v", crc)
				}
			case errors.As(err, &ce):
				off = ce.Offset
			default:
				t.Fatalf("untyped corruption error %v", err)
			}
			if c.crc != (crc != nil) {
				t.Fatalf("got %T, want CRC mismatch = %v", errors.Unwrap(err), c.crc)
			}
			if off != badOff {
				t.Fatalf("reported offset %d, want %d (%v)", off, badOff, err)
			}
		})
	}
}

func TestIncompleteBatchTail(t *testing.T) {
	o := testOptions(t)
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 3)
	s, _ := w.lookup("s")
	if _, err := w.AppendBatch("s", [][]byte{entryFor(3), entryFor(4), entryFor(5)}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	batchOff := int64(s.mu.active.offsets[3])
	lastOff := int64(s.mu.active.offsets[5])
	s.mu.Unlock()
	mustClose(t, w)
	path := lastSegment(t, o.RootPath, "s")
	// Drop the batch's last record: the first two are intact but must not be visible.
	truncateFile(t, path, lastOff)

	o.OnCorruption = OnCorruptionError
	var ce *CorruptionError
	if _, err := Open(o); !errors.As(err, &ce) || ce.Offset != batchOff || ce.Reason != "incomplete batch" {
		t.Fatalf("Open = %v, want incomplete batch at %d", err, batchOff)
	}
	o.OnCorruption = OnCorruptionTruncate
	w = mustOpen(t, o)
	defer mustClose(t, w)
	if got := w.NextSeq("s"); got != 3 {
		t.Fatalf("recovered %d entries, want 3 (no part of the batch)", got)
	}
	if got := fileSize(t, path); got != batchOff {
		t.Fatalf("file cut to %d, want %d", got, batchOff)
	}
	checkEntries(t, w, "s", 0, 3)
}

func TestCorruptActiveHeader(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 5
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 7) // active segment starts at 5
	mustClose(t, w)
	path := lastSegment(t, o.RootPath, "s")
	patchFile(t, path, 0, func(b []byte) { b[3] ^= 0xff })

	o.OnCorruption = OnCorruptionError
	if _, err := Open(o); !errors.Is(err, ErrCorruption) {
		t.Fatalf("Open = %v", err)
	}
	o.OnCorruption = OnCorruptionTruncate
	w = mustOpen(t, o)
	defer mustClose(t, w)
	if got := w.NextSeq("s"); got != 5 {
		t.Fatalf("NextSeq = %d, want 5", got)
	}
	checkEntries(t, w, "s", 0, 5)
	mustAppendN(t, w, "s", 5, 2)
}

func TestCorruptSealedSegmentReported(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 5
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 12)
	mustClose(t, w)
	sealed := segmentFiles(t, o.RootPath, "s")[0]
	patchFile(t, sealed, fileSize(t, sealed)-1, func(b []byte) { b[0] ^= 1 })
	for _, rs := range []ReadStrategy{ReadStandardIO, ReadMmap} {
		o.ReadStrategy = rs
		w = mustOpen(t, o) // sealed segments are checked when read, not at open
		if _, err := w.Get("s", 1); !errors.Is(err, ErrCRCMismatch) {
			t.Fatalf("%v: Get from a corrupt sealed segment = %v", rs, err)
		}
		it, _ := w.Iter("s", 0)
		n := 0
		for it.Next() {
			n++
		}
		if !errors.Is(it.Err(), ErrCorruption) || n != 4 {
			t.Fatalf("%v: iterated %d entries, err %v", rs, n, it.Err())
		}
		it.Close()
		if got, err := w.Get("s", 7); err != nil || !bytes.Equal(got, entryFor(7)) {
			t.Fatalf("%v: later segment unreadable: %v", rs, err)
		}
		mustClose(t, w)
	}
}

func TestTruncatedSealedSegmentReported(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 5
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 12)
	mustClose(t, w)
	sealed := segmentFiles(t, o.RootPath, "s")[1]
	// Remove the last record entirely: the file still decodes but is one record short.
	w = mustOpen(t, o)
	s, _ := w.lookup("s")
	h, err := w.handles.acquire(s.segments()[1], true)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := h.index(5, 512)
	if err != nil {
		t.Fatal(err)
	}
	last := int64(idx[4])
	w.handles.release(h)
	mustClose(t, w)
	truncateFile(t, sealed, last)
	w = mustOpen(t, o)
	defer mustClose(t, w)
	if _, err := w.Get("s", 6); !errors.Is(err, ErrCorruption) {
		t.Fatalf("Get from a short sealed segment = %v", err)
	}
}

// TestRecoverZeroFilledTail simulates a crash of a SyncStrict WAL, whose active segment is
// zero-filled past its data: the zeros are not corruption.
func TestRecoverZeroFilledTail(t *testing.T) {
	o := testOptions(t)
	o.SyncMode = SyncStrict
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 10)
	path := lastSegment(t, o.RootPath, "s")
	crashed, err := os.ReadFile(path) // the file as a crash would leave it
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	if int64(len(crashed)) <= fileSize(t, path) {
		t.Fatalf("no zero-filled tail: %d bytes, %d after Close", len(crashed), fileSize(t, path))
	}
	if err := os.WriteFile(path, crashed, 0o644); err != nil {
		t.Fatal(err)
	}
	o.OnCorruption = OnCorruptionError
	w = mustOpen(t, o)
	checkEntries(t, w, "s", 0, 10)
	mustAppendN(t, w, "s", 10, 10)
	mustClose(t, w)
	w = mustOpen(t, o)
	defer mustClose(t, w)
	checkEntries(t, w, "s", 0, 20)
}
