package diskcache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// dirBytes returns the bytes of every file in dir, temporary files included.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, de := range des {
		info, err := de.Info()
		if err == nil {
			n += info.Size()
		}
	}
	return n
}

// TestWriterReservesCapacity: Create reserves the item's size at once, evicting what no
// longer fits (OnEvict told), so items plus writes in progress stay within the capacity;
// Commit stores the item, Abort drops it and its reservation.
func TestWriterReservesCapacity(t *testing.T) {
	dir := t.TempDir()
	var evicted []string
	c := openCache(t, dir, Options{Capacity: 1000, OnEvict: func(n string) { evicted = append(evicted, n) }})
	for _, n := range []string{"a", "b", "c"} {
		if err := c.Put(n, content(n, 300)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Create("d", 400)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(evicted, []string{"a"}) || c.Room() != 0 {
		t.Fatalf("after Create: evicted %v, room %d; want [a] evicted, no room", evicted, c.Room())
	}
	data := content("d", 400)
	if _, err := w.Write(data[:100]); err != nil {
		t.Fatal(err)
	}
	if got := dirBytes(t, dir); got > 1000 {
		t.Fatalf("%d bytes on disk during the write, capacity 1000", got)
	}
	if _, err := c.Create("e", 700); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("Create beyond the reserved space: %v, want ErrNoRoom", err)
	}
	if _, err := w.Write(data[100:]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte{1}); err == nil {
		t.Fatal("a write past the announced size succeeded")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Abort() // no-op after Commit
	got, ok, err := c.ReadAll("d")
	if err != nil || !ok || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll(d) = %d bytes, %v, %v", len(got), ok, err)
	}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}

	// Abort: nothing stored, the reservation is given back.
	w, err = c.Create("f", 300)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(content("f", 10))
	w.Abort()
	if c.Contains("f") || c.Room() != 1000-c.Stats().Bytes {
		t.Fatalf("after Abort: contains %v, room %d, bytes %d", c.Contains("f"), c.Room(), c.Stats().Bytes)
	}
	// A short write is refused at Commit.
	w, _ = c.Create("g", 100)
	_, _ = w.Write(content("g", 50))
	if err := w.Commit(); err == nil || c.Contains("g") {
		t.Fatalf("Commit of a short item: %v (contains %v), want an error", err, c.Contains("g"))
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
	if _, err := c.Create("big", 1001); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Create above the capacity: %v, want ErrTooLarge", err)
	}
}

// TestWriterCommitKeepsHeldCopy: committing a name the cache came to hold meanwhile keeps
// the held file (a reader may have it open) and drops the new one.
func TestWriterCommitKeepsHeldCopy(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, Options{Capacity: 1000})
	w, err := c.Create("a", 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put("a", content("a", 100)); err != nil {
		t.Fatal(err)
	}
	h, ok, err := c.Get("a")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer h.Close()
	before, _ := os.Stat(filepath.Join(dir, fileName("a")))
	_, _ = w.Write(content("a", 100))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, fileName("a")))
	if !os.SameFile(before, after) {
		t.Fatal("Commit replaced the held file")
	}
	if got := c.Stats().Bytes; got != 100 {
		t.Fatalf("%d bytes counted, want 100", got)
	}
}
