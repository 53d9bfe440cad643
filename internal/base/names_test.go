package base

import (
	"sort"
	"testing"
)

func TestSSTIDRoundTrip(t *testing.T) {
	for _, c := range []struct{ epoch, seq uint64 }{{0, 0}, {1, 42}, {1<<64 - 1, 1<<64 - 1}} {
		id := NewSSTID(c.epoch, c.seq)
		e, s, ok := ParseSSTID(id)
		if !ok || e != c.epoch || s != c.seq {
			t.Fatalf("ParseSSTID(%q) = %d, %d, %v; want %d, %d", id, e, s, ok, c.epoch, c.seq)
		}
		key := SSTKey(id)
		if got, ok := SSTIDOfKey(key); !ok || got != id {
			t.Fatalf("SSTIDOfKey(%q) = %q, %v", key, got, ok)
		}
	}
	if a, b := NewSSTID(3, 7), NewSSTID(3, 7); a == b {
		t.Fatalf("two ids for one flush collide: %s", a)
	}
	ids := []string{NewSSTID(2, 1), NewSSTID(1, 900), NewSSTID(1, 10)}
	sort.Strings(ids)
	if e, s, _ := ParseSSTID(ids[0]); e != 1 || s != 10 {
		t.Fatalf("ids do not sort by epoch then sequence: %v", ids)
	}
}

func TestParseSSTIDRejects(t *testing.T) {
	for _, id := range []string{"", "x", "1-2", "a-2-3", "1-b-3", "1-2-3-4"} {
		if _, _, ok := ParseSSTID(id); ok {
			t.Errorf("ParseSSTID(%q) accepted", id)
		}
	}
}

func TestIDOfKey(t *testing.T) {
	for _, c := range []struct {
		key, id string
		ok      bool
	}{
		{"sst/abc.sst", "abc", true},
		{"sst/.sst", "", false},
		{"sst/a/b.sst", "", false},
		{"sst/abc", "", false},
		{"blob/abc.sst", "", false},
	} {
		if id, ok := SSTIDOfKey(c.key); id != c.id || ok != c.ok {
			t.Errorf("SSTIDOfKey(%q) = %q, %v; want %q, %v", c.key, id, ok, c.id, c.ok)
		}
	}
	if id, ok := BlobIDOfKey(BlobKey("ff00")); !ok || id != "ff00" {
		t.Errorf("BlobIDOfKey round trip: %q, %v", id, ok)
	}
	for _, k := range []string{"blob/", "blob/a/b", "sst/x"} {
		if _, ok := BlobIDOfKey(k); ok {
			t.Errorf("BlobIDOfKey(%q) accepted", k)
		}
	}
}

func TestWALObjectKey(t *testing.T) {
	for _, pos := range []uint64{1, 42, 1<<64 - 1} {
		k := WALObjectKey(pos)
		if got, ok := WALObjectPosOfKey(k); !ok || got != pos {
			t.Fatalf("WALObjectPosOfKey(%q) = %d, %v", k, got, ok)
		}
	}
	if k := WALObjectKey(7); k != "wal/00000000000000000007.wal" {
		t.Fatalf("WALObjectKey(7) = %q", k)
	}
	for _, k := range []string{"wal/00000000000000000000.wal", "wal/7.wal", "wal/0000000000000000000x.wal", "sst/00000000000000000007.wal", "wal/00000000000000000007"} {
		if _, ok := WALObjectPosOfKey(k); ok {
			t.Errorf("WALObjectPosOfKey(%q) accepted", k)
		}
	}
}
