package isledb_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// memValue is the value of key i in TestWriterMemtableMemoryBounded: every 400th is a
// blob (300 KiB, above the default blob threshold), the rest 200 bytes; all derived from
// i so that a recycled slab that still served an older memtable would show.
func memValue(i int) []byte {
	n := 200
	if i%400 == 399 {
		n = 300 << 10
	}
	v := make([]byte, n)
	for j := 0; j < n; j += 8 {
		binary.LittleEndian.PutUint64(v[j:], uint64(i)*0x9E3779B97F4A7C15+uint64(j))
	}
	return v
}

func memKey(i int) []byte { return fmt.Appendf(nil, "k%08d", (i*7919)%100_000) }

// TestWriterMemtableMemoryBounded writes about 24 memtables and checks that the writer's
// memory stays within the memtables it may have in flight: the memory its memtables hold
// never exceeds MaxImmutableMemtables+1 memtables (plus one idle), the Go heap does not
// grow by a memtable (and its SST) per flush, nothing is held after Close, and every
// write reads back.
func TestWriterMemtableMemoryBounded(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		if b.Server {
			t.Skip("memory accounting on the local backends")
		}
		ctx := context.Background()
		store := b.Open(t)
		db := openTestDB(t, store)
		const memtableSize = 1 << 20
		opts := isledb.WriterOptions{MemtableSize: memtableSize, MaxImmutableMemtables: 2, FlushInterval: -1}
		w, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		// A memtable's slabs: its bytes, plus at most one part-used slab of each kind
		// (1 MiB of keys and values, 80 KiB of nodes, 32 KiB of towers).
		const perMemtable = memtableSize + 1<<20 + 80<<10 + 32<<10
		const inFlight = 3 // MaxImmutableMemtables + the active one
		values := make([][]byte, 0, 400)
		const n = 24 * memtableSize / 300
		for i := range 400 {
			values = append(values, memValue(i))
		}
		// value(i) is values[i%400] with i in its first 8 bytes: every value differs.
		value := func(i int) []byte {
			v := append([]byte(nil), values[i%400]...)
			binary.BigEndian.PutUint64(v, uint64(i))
			return v
		}
		scratch := make([]byte, 300<<10)
		put := func(i int) error {
			v := scratch[:len(values[i%400])]
			copy(v, values[i%400])
			binary.BigEndian.PutUint64(v, uint64(i))
			return w.Put(memKey(i), v)
		}

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		stats0 := store.Stats()
		var maxInUse, maxIdle int64
		for i := range n {
			for {
				err := put(i)
				if err == nil {
					break
				}
				if !errors.Is(err, isledb.ErrBackpressure) {
					t.Fatal(err)
				}
				if err := w.Flush(ctx); err != nil { // the queue is full: wait for it
					t.Fatal(err)
				}
			}
			inUse, idle := isledb.MemtableMemoryForTest(w)
			maxInUse, maxIdle = max(maxInUse, inUse), max(maxIdle, idle)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		stored := store.Stats().BytesWritten - stats0.BytesWritten

		if maxInUse > inFlight*perMemtable {
			t.Errorf("memtables held up to %d bytes, want at most %d (%d memtables in flight)", maxInUse, inFlight*perMemtable, inFlight)
		}
		if maxIdle > perMemtable+perMemtable/8 {
			t.Errorf("up to %d bytes idle, want at most a memtable's worth", maxIdle)
		}
		// The heap allocations of the whole run, less what the bucket copied (the memory
		// backend keeps its objects in the heap): recycled memtables and SST buffers keep
		// them to a few memtables, where a fresh memtable and SST buffer per flush cost at
		// least the 24 memtables written.
		allocated := int64(after.TotalAlloc-before.TotalAlloc) - stored
		if b.Name == "file" {
			allocated = int64(after.TotalAlloc - before.TotalAlloc)
		}
		// (Not under the race detector: its sync.Pool drops items at random.)
		if limit := int64(16 * memtableSize); !raceBuild && allocated > limit {
			t.Errorf("writing %d memtables allocated %d MiB on the heap, want at most %d MiB", 24, allocated>>20, limit>>20)
		}
		t.Logf("%s: max in use %d KiB, max idle %d KiB, heap allocated %d KiB, stored %d KiB", b.Name, maxInUse>>10, maxIdle>>10, allocated>>10, stored>>10)

		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if inUse, idle := isledb.MemtableMemoryForTest(w); inUse != 0 || idle != 0 {
			t.Errorf("after Close: %d bytes in use, %d idle, want 0", inUse, idle)
		}
		ro := isledb.DefaultReaderOpenOptions()
		ro.CacheDir = t.TempDir()
		r, err := isledb.OpenReader(ctx, store, ro)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// The last write of each key wins.
		last := map[string]int{}
		for i := range n {
			last[string(memKey(i))] = i
		}
		kvs, err := r.Scan(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) != len(last) {
			t.Fatalf("Scan returned %d keys, want %d", len(kvs), len(last))
		}
		for _, kv := range kvs {
			i, ok := last[string(kv.Key)]
			if !ok || string(kv.Value) != string(value(i)) {
				t.Fatalf("key %s: %d bytes, want write %d (%d bytes)", kv.Key, len(kv.Value), i, len(value(i)))
			}
		}
	})
}
