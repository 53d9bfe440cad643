package kv_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/isledb/isledb/kv"
)

// TestSnapshotIsolation: a snapshot keeps the view it was taken with (unflushed writes
// and SSTs alike) while the store overwrites and deletes its keys, flushes and compacts.
func TestSnapshotIsolation(t *testing.T) {
	s, _ := openTest(t, func(o *kv.Options) { o.L0CompactionTrigger = 2 })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const n = 300
	key := func(i int) []byte { return fmt.Appendf(nil, "k%04d", i) }
	// Half flushed, half in the memtable when the snapshot is taken.
	for i := range n {
		must(s.PutInt64(key(i), int64(i)))
		if i == n/2 {
			must(s.Flush())
		}
	}
	must(s.PutString([]byte("typed"), "old"))
	must(s.PutBool([]byte("flag"), true))
	sn, err := s.Snapshot()
	must(err)
	defer sn.Close()

	// Change everything: overwrite the even keys, delete the odd ones, add new ones.
	for i := range n {
		if i%2 == 0 {
			must(s.PutInt64(key(i), int64(-i)))
		} else {
			must(s.Delete(key(i)))
		}
		must(s.PutString(fmt.Appendf(nil, "k%04d-new", i), "new"))
	}
	must(s.PutFloat64([]byte("typed"), 2.5))
	check := func(stage string) {
		t.Helper()
		for i := range n {
			if v, err := sn.GetInt64(key(i)); err != nil || v != int64(i) {
				t.Fatalf("%s: snapshot GetInt64(%s) = %v, %v; want %d", stage, key(i), v, err, i)
			}
		}
		if v, err := sn.GetString([]byte("typed")); err != nil || v != "old" {
			t.Fatalf("%s: snapshot GetString = %q, %v", stage, v, err)
		}
		if _, err := sn.GetFloat64([]byte("typed")); !errors.Is(err, kv.ErrTypeMismatch) {
			t.Fatalf("%s: snapshot GetFloat64 of a string: %v", stage, err)
		}
		if v, err := sn.GetBool([]byte("flag")); err != nil || !v {
			t.Fatalf("%s: snapshot GetBool = %v, %v", stage, v, err)
		}
		if _, err := sn.Get(fmt.Appendf(nil, "k%04d-new", 3)); !errors.Is(err, kv.ErrKeyNotFound) {
			t.Fatalf("%s: a key written after the snapshot: %v", stage, err)
		}
		got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return sn.ScanPrefix([]byte("k"), fn) })
		if len(got) != n {
			t.Fatalf("%s: snapshot prefix scan: %d keys, want %d", stage, len(got), n)
		}
		for i, k := range got {
			if k != fmt.Sprintf("%s=int64:%d", key(i), i) {
				t.Fatalf("%s: snapshot prefix scan key %d = %s", stage, i, k)
			}
		}
		var sum int64
		cnt := 0
		must(sn.ScanRange(key(10), key(20), func(k []byte, v kv.Value) bool {
			sum += v.Int64
			cnt++
			return true
		}))
		if cnt != 10 || sum != 145 { // 10+...+19
			t.Fatalf("%s: snapshot range scan: %d keys summing to %d", stage, cnt, sum)
		}
		// The store itself sees the new state.
		if _, err := s.Get(key(1)); !errors.Is(err, kv.ErrKeyNotFound) {
			t.Fatalf("%s: store Get of a deleted key: %v", stage, err)
		}
		if v, err := s.GetInt64(key(2)); err != nil || v != -2 {
			t.Fatalf("%s: store GetInt64 = %v, %v", stage, v, err)
		}
	}
	check("after the writes")
	must(s.Flush())
	check("after Flush")
	must(s.Compact())
	must(s.RunCompactionCycle())
	check("after Compact")
	if st := s.Stats(); st.Levels[0].NumFiles != 0 {
		t.Fatalf("Compact left %d L0 SSTs", st.Levels[0].NumFiles)
	}
	// A snapshot taken now sees the new state.
	sn2, err := s.Snapshot()
	must(err)
	if v, err := sn2.GetInt64(key(2)); err != nil || v != -2 {
		t.Fatalf("new snapshot: GetInt64 = %v, %v", v, err)
	}
	must(sn2.Release())
	if _, err := sn2.Get(key(2)); !errors.Is(err, kv.ErrSnapshotClosed) {
		t.Fatalf("Get after Release: %v", err)
	}
	if err := sn2.ScanPrefix(nil, func([]byte, kv.Value) bool { return true }); !errors.Is(err, kv.ErrSnapshotClosed) {
		t.Fatalf("scan after Release: %v", err)
	}
	must(sn2.Close()) // idempotent
	must(s.Close())
	if _, err := sn.Get(key(2)); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("snapshot Get after the store's Close: %v", err)
	}
	if _, err := s.Snapshot(); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("Snapshot after Close: %v", err)
	}
}
