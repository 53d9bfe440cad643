package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAppendGetIter(t *testing.T) {
	w := mustOpen(t, testOptions(t))
	defer mustClose(t, w)
	mustAppendN(t, w, "s", 0, 100)
	checkEntries(t, w, "s", 0, 100)
	checkEntries(t, w, "s", 57, 100)
	if _, err := w.Get("s", 100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get past end = %v, want ErrNotFound", err)
	}
	if ids, _ := collect(t, w, "s", 100); len(ids) != 0 {
		t.Fatalf("Iter at end yielded %d", len(ids))
	}
	if ids, _ := collect(t, w, "s", 5000); len(ids) != 0 {
		t.Fatalf("Iter past end yielded %d", len(ids))
	}
	if got := w.NextSeq("s"); got != 100 {
		t.Fatalf("NextSeq = %d", got)
	}
}

func TestUnknownStream(t *testing.T) {
	w := mustOpen(t, testOptions(t))
	defer mustClose(t, w)
	if _, err := w.Get("nope", 0); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Get = %v", err)
	}
	if _, err := w.Iter("nope", 0); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Iter = %v", err)
	}
	if _, err := w.Truncate("nope", 10); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Truncate = %v", err)
	}
	if _, ok := w.CurrentSegmentStartID("nope"); ok {
		t.Fatal("CurrentSegmentStartID found an unknown stream")
	}
	if w.NextSeq("nope") != 0 {
		t.Fatal("NextSeq of unknown stream")
	}
}

func TestEmptyEntries(t *testing.T) {
	w := mustOpen(t, testOptions(t))
	defer mustClose(t, w)
	if _, err := w.Append("s", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append("s", []byte{}); err != nil {
		t.Fatal(err)
	}
	for id := SeqNum(0); id < 2; id++ {
		got, err := w.Get("s", id)
		if err != nil || len(got) != 0 {
			t.Fatalf("Get %d = %q, %v", id, got, err)
		}
	}
	r, err := w.AppendBatch("s", nil)
	if err != nil || r != (Range{2, 2}) {
		t.Fatalf("empty batch = %v, %v", r, err)
	}
}

func TestReopenContinuesSequence(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 7
	for round := 0; round < 4; round++ {
		w := mustOpen(t, o)
		if got := w.NextSeq("s"); got != SeqNum(round*10) {
			t.Fatalf("round %d: NextSeq = %d", round, got)
		}
		mustAppendN(t, w, "s", round*10, 10)
		checkEntries(t, w, "s", 0, (round+1)*10)
		mustClose(t, w)
	}
}

func TestStreamIsolation(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 5
	w := mustOpen(t, o)
	mustAppendN(t, w, "a", 0, 12)
	mustAppendN(t, w, "b", 0, 3)
	if _, err := w.Append("c", []byte("only")); err != nil {
		t.Fatal(err)
	}
	if got := w.Streams(); len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("Streams = %q", got)
	}
	if n, err := w.Truncate("a", 10); err != nil || n != 2 {
		t.Fatalf("Truncate a = %d, %v", n, err)
	}
	checkEntries(t, w, "b", 0, 3)
	checkEntries(t, w, "a", 10, 12)
	mustClose(t, w)
	w = mustOpen(t, o)
	defer mustClose(t, w)
	checkEntries(t, w, "b", 0, 3)
	checkEntries(t, w, "a", 10, 12)
	if got, _ := w.Get("c", 0); string(got) != "only" {
		t.Fatalf("c = %q", got)
	}
	if w.NextSeq("a") != 12 || w.NextSeq("b") != 3 || w.NextSeq("c") != 1 {
		t.Fatal("sequence numbers leaked between streams")
	}
}

func TestRotationByEntryCount(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 10
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 25)
	if start, _ := w.CurrentSegmentStartID("s"); start != 20 {
		t.Fatalf("active segment starts at %d, want 20", start)
	}
	if files := segmentFiles(t, o.RootPath, "s"); len(files) != 3 {
		t.Fatalf("%d segments, want 3", len(files))
	}
	// A batch that does not fit in the active segment starts a new one; a batch larger than
	// the limit still goes into a single segment.
	if _, err := w.AppendBatch("s", [][]byte{entryFor(25), entryFor(26), entryFor(27), entryFor(28),
		entryFor(29), entryFor(30)}); err != nil {
		t.Fatal(err)
	}
	if start, _ := w.CurrentSegmentStartID("s"); start != 25 {
		t.Fatalf("after batch: active segment starts at %d, want 25", start)
	}
	big := make([][]byte, 15)
	for i := range big {
		big[i] = entryFor(SeqNum(31 + i))
	}
	r, err := w.AppendBatch("s", big)
	if err != nil || r != (Range{31, 46}) {
		t.Fatalf("big batch = %v, %v", r, err)
	}
	if start, _ := w.CurrentSegmentStartID("s"); start != 31 {
		t.Fatalf("after big batch: active segment starts at %d, want 31", start)
	}
	mustAppendN(t, w, "s", 46, 1)
	if start, _ := w.CurrentSegmentStartID("s"); start != 46 {
		t.Fatalf("after big batch + 1: active starts at %d, want 46", start)
	}
	checkEntries(t, w, "s", 0, 47)
	mustClose(t, w)
	w = mustOpen(t, o)
	defer mustClose(t, w)
	checkEntries(t, w, "s", 0, 47)
}

func TestRotationBySize(t *testing.T) {
	o := testOptions(t)
	o.MaxSegmentSize = 4 << 10
	w := mustOpen(t, o)
	entry := bytes.Repeat([]byte("z"), 1000)
	for i := 0; i < 20; i++ {
		if _, err := w.Append("s", entry); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	files := segmentFiles(t, o.RootPath, "s")
	if len(files) < 5 {
		t.Fatalf("%d segments, want at least 5", len(files))
	}
	for _, f := range files {
		if sz := fileSize(t, f); sz > o.MaxSegmentSize {
			t.Fatalf("%s is %d bytes, over the %d limit", f, sz, o.MaxSegmentSize)
		}
	}
	w = mustOpen(t, o)
	defer mustClose(t, w)
	_, es := collect(t, w, "s", 0)
	if len(es) != 20 {
		t.Fatalf("read %d entries", len(es))
	}
}

func TestTruncate(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 10
	w := mustOpen(t, o)
	defer mustClose(t, w)
	mustAppendN(t, w, "s", 0, 35) // segments start at 0, 10, 20, 30 (active)
	for _, c := range []struct {
		safe    SeqNum
		deleted int
		first   SeqNum
	}{
		{0, 0, 0}, {9, 0, 0}, {10, 1, 10}, {19, 0, 10}, {25, 1, 20}, {1000, 1, 30}, {1000, 0, 30},
	} {
		n, err := w.Truncate("s", c.safe)
		if err != nil || n != c.deleted {
			t.Fatalf("Truncate(%d) = %d, %v; want %d", c.safe, n, err, c.deleted)
		}
		ids, _ := collect(t, w, "s", 0)
		if ids[0] != c.first {
			t.Fatalf("after Truncate(%d) the first entry is %d, want %d", c.safe, ids[0], c.first)
		}
		// Nothing at or after safe is ever gone.
		checkEntries(t, w, "s", int(min(c.safe, 35)), 35)
	}
	// The active segment survives even when everything precedes safe.
	if files := segmentFiles(t, o.RootPath, "s"); len(files) != 1 {
		t.Fatalf("%d segment files left", len(files))
	}
	if _, err := w.Get("s", 5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a truncated entry = %v", err)
	}
	mustAppendN(t, w, "s", 35, 1)
}

func TestTxnWriter(t *testing.T) {
	w := mustOpen(t, testOptions(t))
	defer mustClose(t, w)
	mustAppendN(t, w, "s", 0, 2)
	tx := w.Writer("s")
	buf := []byte("reused")
	tx.Add(buf)
	copy(buf, "XXXXXX") // Add copies
	tx.Add([]byte("second"))
	if tx.Len() != 2 {
		t.Fatalf("Len = %d", tx.Len())
	}
	r, err := tx.Commit()
	if err != nil || r != (Range{2, 4}) {
		t.Fatalf("Commit = %v, %v", r, err)
	}
	if tx.Len() != 0 {
		t.Fatal("Commit did not empty the writer")
	}
	if got, _ := w.Get("s", 2); string(got) != "reused" {
		t.Fatalf("entry 2 = %q", got)
	}
	tx.Add([]byte("third"))
	if r, err := tx.Commit(); err != nil || r != (Range{4, 5}) {
		t.Fatalf("second Commit = %v, %v", r, err)
	}
	if r, err := tx.Commit(); err != nil || r.Len() != 0 {
		t.Fatalf("empty Commit = %v, %v", r, err)
	}
	tx.Add([]byte("dropped"))
	tx.Reset()
	if r, _ := tx.Commit(); r.Len() != 0 || w.NextSeq("s") != 5 {
		t.Fatal("Reset did not drop entries")
	}
}

func TestClosed(t *testing.T) {
	w := mustOpen(t, testOptions(t))
	mustAppendN(t, w, "s", 0, 3)
	it, err := w.Iter("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := w.Append("s", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, err := w.Get("s", 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close = %v", err)
	}
	// An iterator made before Close still reads what it could see.
	n := 0
	for it.Next() {
		n++
	}
	if it.Err() != nil || n != 3 {
		t.Fatalf("iterator after Close: %d entries, %v", n, it.Err())
	}
	it.Close()
}

func TestLockedRoot(t *testing.T) {
	if !lockSupported {
		t.Skip("no advisory locks on this platform")
	}
	o := testOptions(t)
	w := mustOpen(t, o)
	defer mustClose(t, w)
	if _, err := Open(o); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestOpenIgnoresForeignFilesAndRejectsBadSegmentNames(t *testing.T) {
	o := testOptions(t)
	w := mustOpen(t, o)
	mustAppendN(t, w, "s", 0, 3)
	mustClose(t, w)
	// Foreign files are ignored; a leftover temporary segment is removed.
	os.WriteFile(filepath.Join(o.RootPath, "README"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(o.RootPath, "s", "notes.txt"), []byte("x"), 0o644)
	tmp := filepath.Join(o.RootPath, "s", segmentFileName(3)+tempSuffix)
	os.WriteFile(tmp, []byte("partial"), 0o644)
	w = mustOpen(t, o)
	checkEntries(t, w, "s", 0, 3)
	mustClose(t, w)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary segment not removed: %v", err)
	}
	os.WriteFile(filepath.Join(o.RootPath, "s", "12.wal"), []byte("x"), 0o644)
	if _, err := Open(o); !errors.Is(err, ErrInvalidFilename) {
		t.Fatalf("Open with a bad segment name = %v", err)
	}
}

func TestSegmentFromAnotherStreamRejected(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 2
	w := mustOpen(t, o)
	mustAppendN(t, w, "a", 0, 5)
	mustAppendN(t, w, "b", 0, 5)
	mustClose(t, w)
	// Put a's sealed first segment in place of b's.
	src, _ := os.ReadFile(filepath.Join(o.RootPath, "a", segmentFileName(0)))
	os.WriteFile(filepath.Join(o.RootPath, "b", segmentFileName(0)), src, 0o644)
	w = mustOpen(t, o)
	defer mustClose(t, w)
	if _, err := w.Get("b", 0); !errors.Is(err, ErrInvalidFilename) {
		t.Fatalf("Get from a misplaced segment = %v", err)
	}
}
