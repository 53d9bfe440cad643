package kv_test

import (
	"fmt"
	"testing"

	"github.com/isledb/isledb/kv"
)

// TestShortScanDoesNotCopyMemtables: a 10-key scan over a store whose memtable holds
// 20,000 unflushed writes allocates a bounded amount, not a copy of every unflushed write
// from its start key on (which it did: each scan cloned the rest of the memtable, under
// the writer's lock). Allocation counts, not timings.
func TestShortScanDoesNotCopyMemtables(t *testing.T) {
	s, _ := openTest(t, func(o *kv.Options) {
		o.MemtableSize = 64 << 20
		o.WALSyncMode = kv.WALSyncNone
	})
	const keys = 20_000
	for i := range keys {
		if err := s.PutInt64(fmt.Appendf(nil, "key-%06d", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	scan := func() {
		n := 0
		err := s.ScanRange([]byte("key-000100"), nil, func(k []byte, v kv.Value) bool {
			if want := fmt.Sprintf("key-%06d", 100+n); string(k) != want || v.Int64 != int64(100+n) {
				t.Fatalf("scan key %d: %q=%d, want %s", n, k, v.Int64, want)
			}
			n++
			return n < 10
		})
		if err != nil || n != 10 {
			t.Fatalf("scan: %d keys, %v", n, err)
		}
	}
	scan()
	if allocs := testing.AllocsPerRun(20, scan); allocs > 500 {
		t.Fatalf("a 10-key scan allocates %.0f times with %d unflushed writes: it copies the memtable", allocs, keys)
	}
}
