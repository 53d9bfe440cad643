package wal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// testOptions returns options for a fresh directory, in SyncAsync mode so that tests that do
// not test durability do not pay for fsyncs.
func testOptions(t testing.TB) Options {
	t.Helper()
	o := DefaultOptions(t.TempDir())
	o.SyncMode = SyncAsync
	return o
}

func mustOpen(t testing.TB, o Options) *WAL {
	t.Helper()
	w, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w
}

func mustClose(t testing.TB, w *WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// entryFor returns the deterministic test entry for sequence number id.
func entryFor(id SeqNum) []byte {
	n := int(id*37%200) + 1
	b := make([]byte, 0, n+24)
	b = fmt.Appendf(b, "entry-%d:", id)
	for len(b) < n+16 {
		b = append(b, byte('a'+(int(id)+len(b))%26))
	}
	return b
}

func mustAppendN(t testing.TB, w *WAL, stream string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		id, err := w.Append(stream, entryFor(SeqNum(i)))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		if id != SeqNum(i) {
			t.Fatalf("Append returned %d, want %d", id, i)
		}
	}
}

// collect reads stream from start with an iterator.
func collect(t testing.TB, w *WAL, stream string, start SeqNum) ([]SeqNum, [][]byte) {
	t.Helper()
	it, err := w.Iter(stream, start)
	if err != nil {
		t.Fatalf("Iter: %v", err)
	}
	defer it.Close()
	var ids []SeqNum
	var es [][]byte
	for it.Next() {
		ids = append(ids, it.ID())
		es = append(es, bytes.Clone(it.Entry()))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterating: %v", err)
	}
	return ids, es
}

// checkEntries verifies that stream holds exactly entryFor(from..to-1), by Get and by Iter.
func checkEntries(t testing.TB, w *WAL, stream string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		got, err := w.Get(stream, SeqNum(i))
		if err != nil {
			t.Fatalf("Get %d: %v", i, err)
		}
		if !bytes.Equal(got, entryFor(SeqNum(i))) {
			t.Fatalf("Get %d = %q, want %q", i, got, entryFor(SeqNum(i)))
		}
	}
	ids, es := collect(t, w, stream, SeqNum(from))
	if len(ids) != to-from {
		t.Fatalf("Iter from %d yielded %d entries, want %d", from, len(ids), to-from)
	}
	for k, id := range ids {
		if id != SeqNum(from+k) || !bytes.Equal(es[k], entryFor(id)) {
			t.Fatalf("Iter entry %d: id %d %q", k, id, es[k])
		}
	}
}

// segmentFiles lists the segment files of stream.
func segmentFiles(t testing.TB, root, stream string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, stream, "*"+segmentSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lastSegment returns the path of the newest segment file of stream.
func lastSegment(t testing.TB, root, stream string) string {
	t.Helper()
	m := segmentFiles(t, root, stream)
	if len(m) == 0 {
		t.Fatalf("no segments in %s", stream)
	}
	return m[len(m)-1]
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
