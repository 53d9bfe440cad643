package diskcache

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// content returns the deterministic bytes of item name at size n, so that any read can be
// checked without shared state.
func content(name string, n int) []byte {
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func openCache(t testing.TB, dir string, opts Options) *Cache {
	t.Helper()
	c, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.check(); err != nil && !c.isClosed() {
			t.Errorf("check: %v", err)
		}
		c.Close()
	})
	return c
}

func (c *Cache) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.closed
}

// lruNames returns the held names, most recently used first.
func (c *Cache) lruNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for e := c.mu.lru.root.next; e != &c.mu.lru.root; e = e.next {
		out = append(out, e.name)
	}
	return out
}

func mustPut(t testing.TB, c *Cache, name string, n int) {
	t.Helper()
	if err := c.Put(name, content(name, n)); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func TestPutGetReadAll(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	if _, ok, err := c.Get("absent"); ok || err != nil {
		t.Fatalf("Get(absent) = %v, %v", ok, err)
	}
	mustPut(t, c, "item", 5000)
	h, ok, err := c.Get("item")
	if !ok || err != nil {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if h.Size() != 5000 {
		t.Fatalf("Size = %d", h.Size())
	}
	buf := make([]byte, 100)
	if n, err := h.ReadAt(buf, 4950); n != 50 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
	if !bytes.Equal(buf[:50], content("item", 5000)[4950:]) {
		t.Fatal("ReadAt returned wrong bytes")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	data, ok, err := c.ReadAll("item")
	if !ok || err != nil || !bytes.Equal(data, content("item", 5000)) {
		t.Fatalf("ReadAll = %d bytes, %v, %v", len(data), ok, err)
	}
	if !c.Contains("item") || c.Contains("absent") || c.Contains("../x") {
		t.Fatal("Contains wrong")
	}
	// Putting a held item again changes nothing on disk.
	if err := c.Put("item", content("item", 5000)); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove("item"); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove("item"); err != nil {
		t.Fatalf("removing an absent item: %v", err)
	}
	if _, ok, _ := c.ReadAll("item"); ok {
		t.Fatal("item still there after Remove")
	}
	s := c.Stats()
	want := Stats{Hits: 2, Misses: 2, Puts: 2, Capacity: 1 << 20}
	if s != want {
		t.Fatalf("Stats = %+v, want %+v", s, want)
	}
}

func TestEmptyItem(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 100})
	if err := c.Put("empty", nil); err != nil {
		t.Fatal(err)
	}
	data, ok, err := c.ReadAll("empty")
	if !ok || err != nil || len(data) != 0 {
		t.Fatalf("ReadAll = %q, %v, %v", data, ok, err)
	}
}

func TestEvictionOrder(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 100})
	for _, n := range []string{"a", "b", "c"} {
		mustPut(t, c, n, 30)
	}
	// Touch a: b becomes the least recently used.
	if _, ok, _ := c.ReadAll("a"); !ok {
		t.Fatal("a missing")
	}
	mustPut(t, c, "d", 30) // 120 bytes: b goes
	if got, want := strings.Join(c.lruNames(), " "), "d a c"; got != want {
		t.Fatalf("LRU order %q, want %q", got, want)
	}
	// Contains does not count as a use.
	c.Contains("c")
	// A Put of a held item does.
	mustPut(t, c, "c", 30)
	mustPut(t, c, "e", 50) // 140 bytes: a, then d go
	if got, want := strings.Join(c.lruNames(), " "), "e c"; got != want {
		t.Fatalf("LRU order %q, want %q", got, want)
	}
	if s := c.Stats(); s.Evictions != 3 || s.Bytes != 80 || s.Items != 2 {
		t.Fatalf("Stats = %v", s)
	}
	for _, n := range []string{"a", "b", "d"} {
		if _, err := os.Stat(filepath.Join(c.Dir(), n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("evicted %s still on disk: %v", n, err)
		}
	}
}

func TestCapacityBound(t *testing.T) {
	const capacity = 10_000
	c := openCache(t, t.TempDir(), Options{Capacity: capacity})
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 300 {
		name := fmt.Sprintf("item-%d", r.IntN(60))
		mustPut(t, c, name, r.IntN(capacity/4))
		if s := c.Stats(); s.Bytes > capacity {
			t.Fatalf("after put %d: %d bytes > %d", i, s.Bytes, capacity)
		}
		if i%50 == 0 {
			if err := c.check(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An item as large as the whole capacity fits, alone.
	mustPut(t, c, "whole", capacity)
	if s := c.Stats(); s.Items != 1 || s.Bytes != capacity {
		t.Fatalf("Stats = %v", s)
	}
}

func TestMaxItemSize(t *testing.T) {
	tests := []struct {
		capacity, maxItem int64
		size              int
		ok                bool
	}{
		{100, 0, 100, true},
		{100, 0, 101, false}, // larger than the capacity
		{100, 10, 10, true},
		{100, 10, 11, false},
		{100, 1000, 101, false},
	}
	for _, tt := range tests {
		c := openCache(t, t.TempDir(), Options{Capacity: tt.capacity, MaxItemSize: tt.maxItem})
		err := c.Put("x", make([]byte, tt.size))
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrTooLarge)) {
			t.Errorf("%+v: Put = %v", tt, err)
		}
		s := c.Stats()
		wantRejected := int64(0)
		if !tt.ok {
			wantRejected = 1
		}
		if s.Rejected != wantRejected {
			t.Errorf("%+v: Rejected = %d", tt, s.Rejected)
		}
		if !tt.ok && (c.Contains("x") || s.Bytes != 0) {
			t.Errorf("%+v: the refused item was stored", tt)
		}
	}
}

func TestInvalidNames(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 100})
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, "../escape", strings.Repeat("n", 201), "nul\x00"} {
		if err := c.Put(name, []byte("x")); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Put(%q) = %v", name, err)
		}
		if _, _, err := c.Get(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Get(%q) = %v", name, err)
		}
		if _, _, err := c.ReadAll(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ReadAll(%q) = %v", name, err)
		}
		if err := c.Remove(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Remove(%q) = %v", name, err)
		}
	}
	if s := c.Stats(); s.Misses != 0 || s.Hits != 0 {
		t.Errorf("invalid names counted as lookups: %v", s)
	}
	ents, _ := os.ReadDir(c.Dir())
	if len(ents) != 0 {
		t.Errorf("files written for invalid names: %v", ents)
	}
}

func TestNamesNeedingEscapes(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, Options{Capacity: 1000})
	names := []string{"Blob", "blob", "a b", "50%", "x~y", "~lead"}
	for _, n := range names {
		mustPut(t, c, n, 10)
	}
	c.Close()
	c = openCache(t, dir, Options{Capacity: 1000})
	for _, n := range names {
		data, ok, err := c.ReadAll(n)
		if !ok || err != nil || !bytes.Equal(data, content(n, 10)) {
			t.Errorf("after reopen, %q: %v %v", n, ok, err)
		}
	}
}

// setMtimes gives the files of names increasing modification times, oldest first.
func setMtimes(t *testing.T, dir string, names ...string) {
	t.Helper()
	base := time.Now().Add(-time.Hour)
	for i, n := range names {
		at := base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(filepath.Join(dir, fileName(n)), at, at); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRestartAdoption(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, Options{Capacity: 1000})
	for _, n := range []string{"a", "b", "c", "d"} {
		mustPut(t, c, n, 100)
	}
	c.Close()
	// Make c the oldest, then a, d, b.
	setMtimes(t, dir, "c", "a", "d", "b")

	c = openCache(t, dir, Options{Capacity: 1000})
	if got, want := strings.Join(c.lruNames(), " "), "b d a c"; got != want {
		t.Fatalf("adopted LRU order %q, want %q", got, want)
	}
	if s := c.Stats(); s.Items != 4 || s.Bytes != 400 || s.Evictions != 0 {
		t.Fatalf("Stats = %v", s)
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		if data, ok, _ := c.ReadAll(n); !ok || !bytes.Equal(data, content(n, 100)) {
			t.Errorf("adopted %s unreadable or wrong", n)
		}
	}
	c.Close()

	// Reopening with less room evicts the oldest.
	setMtimes(t, dir, "c", "a", "d", "b")
	c = openCache(t, dir, Options{Capacity: 250})
	if got, want := strings.Join(c.lruNames(), " "), "b d"; got != want {
		t.Fatalf("after shrinking, LRU order %q, want %q", got, want)
	}
	if s := c.Stats(); s.Evictions != 2 {
		t.Fatalf("Stats = %v", s)
	}
	for _, n := range []string{"a", "c"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not deleted: %v", n, err)
		}
	}
}

func TestOpenCleansUp(t *testing.T) {
	dir := t.TempDir()
	write := func(fn string, n int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, fn), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good", 10)
	write("~123456.tmp", 10) // an interrupted Put
	write("~.tmp", 0)        // another
	write("empty", 0)        // what a power loss leaves
	write("huge", 500)       // above MaxItemSize
	write("NOTES.txt", 10)   // not ours: upper case is always escaped
	write("~mine", 10)       // not ours: no .tmp suffix
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := openCache(t, dir, Options{Capacity: 1000, MaxItemSize: 100})
	if got := strings.Join(c.lruNames(), " "); got != "good" {
		t.Fatalf("adopted %q, want good", got)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if got, want := strings.Join(left, " "), "NOTES.txt good subdir ~mine"; got != want {
		t.Fatalf("directory holds %q, want %q", got, want)
	}
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	c := openCache(t, dir, Options{Capacity: 10})
	mustPut(t, c, "x", 5)
	if _, err := os.Stat(filepath.Join(dir, "x")); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		opts Options
		bad  []string
	}{
		{Options{Capacity: 1}, nil},
		{Options{Capacity: 1 << 30, MaxItemSize: 1 << 20}, nil},
		{Options{}, []string{"Capacity"}},
		{Options{Capacity: -1, MaxItemSize: -1}, []string{"Capacity", "MaxItemSize"}},
	}
	for _, tt := range tests {
		err := tt.opts.EnsureDefaults().Validate()
		if (err == nil) != (tt.bad == nil) {
			t.Errorf("%+v: Validate = %v", tt.opts, err)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v does not wrap ErrInvalidOptions", tt.opts, err)
		}
		for _, field := range tt.bad {
			if !strings.Contains(err.Error(), field) {
				t.Errorf("%+v: %v does not mention %s", tt.opts, err, field)
			}
		}
		if _, err := Open(t.TempDir(), tt.opts); (err == nil) != (tt.bad == nil) {
			t.Errorf("%+v: Open = %v", tt.opts, err)
		}
	}
}

func TestHandleSurvivesEviction(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 100})
	mustPut(t, c, "old", 60)
	h, ok, err := c.Get("old")
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer h.Close()
	mustPut(t, c, "new", 60) // evicts old
	if c.Contains("old") {
		t.Fatal("old not evicted")
	}
	buf := make([]byte, 60)
	if _, err := h.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, content("old", 60)) {
		t.Fatalf("open handle unreadable after eviction: %v", err)
	}
	if err := c.Remove("new"); err != nil {
		t.Fatal(err)
	}
}

func TestVanishedFile(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 100})
	mustPut(t, c, "x", 10)
	mustPut(t, c, "y", 10)
	if err := os.Remove(filepath.Join(c.Dir(), "x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(c.Dir(), "y"), 5); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get("x"); ok || err != nil {
		t.Fatalf("Get of a file removed behind the cache's back = %v, %v; want a miss", ok, err)
	}
	if _, ok, err := c.ReadAll("y"); ok || err != nil {
		t.Fatalf("ReadAll of a truncated file = %v, %v; want a miss", ok, err)
	}
	if s := c.Stats(); s.Items != 0 || s.Bytes != 0 {
		t.Fatalf("Stats = %v", s)
	}
}

// TestGrownFile: a file extended behind the cache's back is not its item any more: ReadAll
// removes it and reports a miss.
func TestGrownFile(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 100})
	mustPut(t, c, "x", 10)
	f, err := os.OpenFile(filepath.Join(c.Dir(), "x"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("junk")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.ReadAll("x"); ok || err != nil {
		t.Fatalf("ReadAll of an extended file = %v, %v; want a miss", ok, err)
	}
	if s := c.Stats(); s.Items != 0 || s.Bytes != 0 {
		t.Fatalf("Stats = %v", s)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("extended file still there: %v", err)
	}
}

func TestTouchRefreshesMtime(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, Options{Capacity: 100})
	mustPut(t, c, "x", 10)
	c.Close()
	old := time.Now().Add(-2 * touchInterval)
	path := filepath.Join(dir, "x")
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	c = openCache(t, dir, Options{Capacity: 100})
	if _, ok, _ := c.ReadAll("x"); !ok {
		t.Fatal("miss")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.ModTime().After(old.Add(touchInterval)) {
		t.Fatalf("mtime %v not refreshed (was %v)", info.ModTime(), old)
	}
}

func TestClosed(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, Options{Capacity: 100})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, c, "x", 10)
	h, _, _ := c.Get("x")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := c.Put("y", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put = %v", err)
	}
	if _, _, err := c.Get("x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get = %v", err)
	}
	if _, _, err := c.ReadAll("x"); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAll = %v", err)
	}
	if err := c.Remove("x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Remove = %v", err)
	}
	buf := make([]byte, 10)
	if _, err := h.ReadAt(buf, 0); err != nil {
		t.Errorf("handle unreadable after Close: %v", err)
	}
	h.Close()
	if _, err := os.Stat(filepath.Join(dir, "x")); err != nil {
		t.Errorf("Close removed the files: %v", err)
	}
}

func TestStatsString(t *testing.T) {
	s := Stats{Hits: 3, Misses: 1, Puts: 2, Evictions: 1, Rejected: 1, Bytes: 1536, Items: 2, Capacity: 1 << 30}
	want := "items=2 bytes=1.5KiB/1.0GiB hits=3 misses=1 hit-rate=75.0% puts=2 evictions=1 rejected=1 put-errors=0 fetches=0"
	if got := s.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.0KiB", 5 << 20: "5.0MiB", 3 << 40: "3.0TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if (Stats{}).HitRate() != 0 {
		t.Error("HitRate of nothing")
	}
}

func TestMemoryHandle(t *testing.T) {
	h := &Handle{data: []byte("hello"), size: 5}
	tests := []struct {
		off  int64
		n    int
		want string
		err  error
	}{
		{0, 5, "hello", nil},
		{1, 3, "ell", nil},
		{3, 5, "lo", io.EOF},
		{5, 1, "", io.EOF},
		{5, 0, "", nil},
		{9, 2, "", io.EOF},
	}
	for _, tt := range tests {
		buf := make([]byte, tt.n)
		n, err := h.ReadAt(buf, tt.off)
		if string(buf[:n]) != tt.want || err != tt.err {
			t.Errorf("ReadAt(%d bytes at %d) = %q, %v; want %q, %v", tt.n, tt.off, buf[:n], err, tt.want, tt.err)
		}
	}
	if _, err := h.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
	if h.Size() != 5 || h.Close() != nil {
		t.Error("Size or Close")
	}
}

// TestConcurrent runs Put, Get, ReadAll, Remove and Contains from many goroutines over few
// names in a small cache, so that evictions race with everything; every successful read
// must return the item's exact bytes. Run it with -race.
func TestConcurrent(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 20_000, MaxItemSize: 5000})
	const workers, ops, names = 8, 400, 24
	size := func(i int) int { return 500 + 200*i } // item i always has the same size
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range ops {
				i := r.IntN(names)
				name := fmt.Sprintf("item-%02d", i)
				want := content(name, size(i))
				switch op := r.IntN(10); {
				case op < 3:
					err := c.Put(name, want)
					if err != nil && !(size(i) > 5000 && errors.Is(err, ErrTooLarge)) {
						errc <- fmt.Errorf("Put(%s): %w", name, err)
						return
					}
				case op < 6:
					h, ok, err := c.Get(name)
					if err != nil {
						errc <- fmt.Errorf("Get(%s): %w", name, err)
						return
					}
					if ok {
						buf := make([]byte, h.Size())
						_, err := h.ReadAt(buf, 0)
						h.Close()
						if err != nil || !bytes.Equal(buf, want) {
							errc <- fmt.Errorf("Get(%s) read %v", name, err)
							return
						}
					}
				case op < 9:
					data, ok, err := c.ReadAll(name)
					if err != nil || ok && !bytes.Equal(data, want) {
						errc <- fmt.Errorf("ReadAll(%s): ok=%v err=%v", name, ok, err)
						return
					}
				default:
					if r.IntN(2) == 0 {
						if err := c.Remove(name); err != nil {
							errc <- fmt.Errorf("Remove(%s): %w", name, err)
							return
						}
					} else {
						c.Contains(name)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.Evictions == 0 || s.Hits == 0 || s.Misses == 0 {
		t.Errorf("the test did not exercise eviction and both outcomes: %v", s)
	}
	// The directory holds exactly the indexed items: no temporary files, no orphans.
	ents, _ := os.ReadDir(c.Dir())
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	held := c.lruNames()
	slices.Sort(held)
	if !slices.Equal(files, held) {
		t.Errorf("directory %v, index %v", files, held)
	}
}

// TestConcurrentSamePut has many goroutines Put the same names at once.
func TestConcurrentSamePut(t *testing.T) {
	c := openCache(t, t.TempDir(), Options{Capacity: 1 << 20})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				name := fmt.Sprintf("n%d", (i+w)%10)
				if err := c.Put(name, content(name, 1000)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if s := c.Stats(); s.Items != 10 || s.Bytes != 10_000 || s.Puts != 400 {
		t.Fatalf("Stats = %v", s)
	}
}

// TestOnEvict: Put reports each item it evicts, and only those, through OnEvict.
func TestOnEvict(t *testing.T) {
	var evicted []string
	var c *Cache
	c, err := Open(t.TempDir(), Options{Capacity: 10, OnEvict: func(name string) {
		evicted = append(evicted, name)
		_ = c.Contains(name) // the lock is released: calling the cache does not deadlock
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := c.Put(n, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if len(evicted) != 1 || evicted[0] != "a" {
		t.Fatalf("evicted %q, want [a]", evicted)
	}
}

// TestTouch: a touched item is evicted after the items used less recently.
func TestTouch(t *testing.T) {
	c, err := Open(t.TempDir(), Options{Capacity: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := c.Put(n, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
	}
	c.Touch("a")
	c.Touch("absent")
	if err := c.Put("c", make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if !c.Contains("a") || c.Contains("b") || !c.Contains("c") {
		t.Fatalf("after touching a: a %v, b %v, c %v; want b evicted", c.Contains("a"), c.Contains("b"), c.Contains("c"))
	}
}
