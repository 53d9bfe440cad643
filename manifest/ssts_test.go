package manifest

import (
	"slices"
	"testing"
)

// TestSSTsWalk: SSTs yields L0 first, then each run in order, stops when asked, and its
// users (LookupSST, AllSSTIDs, MaxSeqNum, CopySSTs) agree with it.
func TestSSTsWalk(t *testing.T) {
	m := &Manifest{
		L0SSTs: []SSTMeta{testSST("l0-b", 9), testSST("l0-a", 7)},
		SortedRuns: []SortedRun{
			{ID: 2, SSTs: []SSTMeta{runSST("r2-a", 0, 10), runSST("r2-b", 20, 30)}},
			{ID: 1, SSTs: []SSTMeta{runSST("r1-a", 0, 50)}},
		},
	}
	want := []string{"l0-b", "l0-a", "r2-a", "r2-b", "r1-a"}
	var got []string
	for s := range m.SSTs() {
		got = append(got, s.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("SSTs order %v, want %v", got, want)
	}
	if ids := m.AllSSTIDs(); !slices.Equal(ids, want) {
		t.Fatalf("AllSSTIDs %v, want %v", ids, want)
	}
	copies := m.CopySSTs()
	if len(copies) != len(want) || copies[3].ID != "r2-b" {
		t.Fatalf("CopySSTs %v", copies)
	}
	copies[0].ID = "changed"
	if m.L0SSTs[0].ID != "l0-b" {
		t.Fatal("CopySSTs shares the metadata structs with the manifest")
	}
	if s := m.LookupSST("r2-b"); s != &m.SortedRuns[0].SSTs[1] {
		t.Fatalf("LookupSST(r2-b) = %p, want a pointer into the manifest", s)
	}
	if m.LookupSST("none") != nil {
		t.Fatal("LookupSST found an absent id")
	}
	var hi uint64
	for s := range m.SSTs() {
		hi = max(hi, s.SeqHi)
	}
	if m.MaxSeqNum() != hi {
		t.Fatalf("MaxSeqNum %d, want %d", m.MaxSeqNum(), hi)
	}
	n := 0
	for range m.SSTs() {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("stopped after %d", n)
	}
	if got := slices.Collect((&Manifest{}).SSTs()); len(got) != 0 {
		t.Fatalf("empty manifest yields %v", got)
	}
}
