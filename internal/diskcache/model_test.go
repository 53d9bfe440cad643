package diskcache

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "run TestModel with this seed only (0: seeds 1..-seeds)")
	seedsFlag = flag.Int("seeds", 100, "number of seeds TestModel runs")
)

// lruModel is the plain reference: a list of names, most recently used first.
type lruModel struct {
	order    []string
	sizes    map[string]int
	capacity int
	maxItem  int
}

func (m *lruModel) bytes() int {
	n := 0
	for _, name := range m.order {
		n += m.sizes[name]
	}
	return n
}

func (m *lruModel) use(name string) bool {
	i := slices.Index(m.order, name)
	if i < 0 {
		return false
	}
	m.order = slices.Insert(slices.Delete(m.order, i, i+1), 0, name)
	return true
}

func (m *lruModel) evict() {
	for m.bytes() > m.capacity {
		m.order = m.order[:len(m.order)-1]
	}
}

// TestModel applies random Puts, Gets, ReadAlls, Removes, Contains and restarts (with a
// random new capacity) to a Cache and to lruModel, and compares the exact LRU order and
// contents after every step. A failure names its seed; replay it with
// go test -run TestModel -seed N.
func TestModel(t *testing.T) {
	if *seedFlag != 0 {
		runModel(t, *seedFlag)
		return
	}
	n := *seedsFlag
	if testing.Short() {
		n = 20
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		runModel(t, seed)
		if t.Failed() {
			return
		}
	}
}

func runModel(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x6469736b))
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (replay: go test -run TestModel -seed %d): %s", seed, seed, fmt.Sprintf(format, args...))
	}
	dir := t.TempDir()
	m := &lruModel{sizes: map[string]int{}, capacity: 500 + r.IntN(4000)}
	if r.IntN(2) == 0 {
		m.maxItem = 200 + r.IntN(800)
	}
	names := make([]string, 15)
	for i := range names {
		names[i] = fmt.Sprintf("%020d-%020d-%x", i, r.IntN(1000), r.Uint32())
		if i%5 == 4 {
			names[i] = strings.ToUpper(names[i]) // needs escaping
		}
		m.sizes[names[i]] = 1 + r.IntN(900)
	}
	open := func() *Cache {
		c, err := Open(dir, Options{Capacity: int64(m.capacity), MaxItemSize: int64(m.maxItem)})
		if err != nil {
			fail("Open: %v", err)
		}
		return c
	}
	c := open()
	defer func() { c.Close() }()

	for op := range 200 {
		name := names[r.IntN(len(names))]
		size := m.sizes[name]
		var desc string
		switch x := r.IntN(20); {
		case x < 7:
			desc = fmt.Sprintf("Put(%s, %d bytes)", name, size)
			err := c.Put(name, content(name, size))
			tooLarge := size > m.capacity || m.maxItem > 0 && size > m.maxItem
			switch {
			case tooLarge && !errors.Is(err, ErrTooLarge):
				fail("op %d %s = %v, want ErrTooLarge", op, desc, err)
			case !tooLarge && err != nil:
				fail("op %d %s: %v", op, desc, err)
			case !tooLarge && !m.use(name):
				m.order = slices.Insert(m.order, 0, name)
				m.evict()
			}
		case x < 11:
			desc = fmt.Sprintf("ReadAll(%s)", name)
			data, ok, err := c.ReadAll(name)
			if err != nil || ok != m.use(name) || ok && !bytes.Equal(data, content(name, size)) {
				fail("op %d %s = %d bytes, %v, %v; model holds it: %v", op, desc, len(data), ok, err, ok)
			}
		case x < 15:
			desc = fmt.Sprintf("Get(%s)", name)
			h, ok, err := c.Get(name)
			if err != nil || ok != m.use(name) {
				fail("op %d %s = %v, %v", op, desc, ok, err)
			}
			if ok {
				buf := make([]byte, h.Size())
				if _, err := h.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, content(name, size)) {
					fail("op %d %s: read %v", op, desc, err)
				}
				h.Close()
			}
		case x < 17:
			desc = fmt.Sprintf("Remove(%s)", name)
			if err := c.Remove(name); err != nil {
				fail("op %d %s: %v", op, desc, err)
			}
			if i := slices.Index(m.order, name); i >= 0 {
				m.order = slices.Delete(m.order, i, i+1)
			}
		case x < 18:
			desc = fmt.Sprintf("Contains(%s)", name)
			if c.Contains(name) != slices.Contains(m.order, name) {
				fail("op %d %s wrong", op, desc)
			}
		default:
			m.capacity = 500 + r.IntN(4000)
			desc = fmt.Sprintf("reopen with capacity %d", m.capacity)
			c.Close()
			// File times record the LRU order, oldest = least recently used; the clock's
			// granularity is too coarse to rely on the times the writes left.
			at := time.Now().Add(-time.Hour)
			for i := len(m.order) - 1; i >= 0; i-- {
				at = at.Add(time.Second)
				if err := os.Chtimes(filepath.Join(dir, fileName(m.order[i])), at, at); err != nil {
					fail("op %d: %v", op, err)
				}
			}
			c = open()
			m.order = slices.DeleteFunc(m.order, func(n string) bool { return m.sizes[n] > m.capacity })
			m.evict()
		}
		if got := c.lruNames(); !slices.Equal(got, m.order) {
			fail("after op %d %s: LRU order\n%v\nwant\n%v", op, desc, got, m.order)
		}
		if s := c.Stats(); s.Bytes != int64(m.bytes()) || s.Items != int64(len(m.order)) {
			fail("after op %d %s: Stats %v, model %d items %d bytes", op, desc, s, len(m.order), m.bytes())
		}
		if err := c.check(); err != nil {
			fail("after op %d %s: %v", op, desc, err)
		}
	}
}
