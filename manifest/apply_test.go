package manifest

import (
	"errors"
	"slices"
	"testing"
)

// applyState is L0 = [n3 n2 n1] (newest first), runs = [run 2: a b][run 1: c].
func applyState() *Manifest {
	m := newManifest()
	m.L0SSTs = []SSTMeta{testSST("n3", 3), testSST("n2", 2), testSST("n1", 1)}
	m.SortedRuns = []SortedRun{
		{ID: 2, SSTs: []SSTMeta{runSST("a", 0, 9), runSST("b", 10, 19)}},
		{ID: 1, SSTs: []SSTMeta{runSST("c", 0, 99)}},
	}
	m.NextSortedRunID = 3
	return m
}

func compaction(c CompactionLogPayload) *ManifestLogEntry {
	return &ManifestLogEntry{Kind: EntryCompaction, Role: RoleCompactor, Epoch: 1, Compaction: &c}
}

func runIDs(m *Manifest) []uint32 {
	var ids []uint32
	for _, r := range m.SortedRuns {
		ids = append(ids, r.ID)
	}
	return ids
}

func l0IDs(m *Manifest) []string {
	var ids []string
	for _, s := range m.L0SSTs {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestValidateCompaction(t *testing.T) {
	out := func(id uint32, ssts ...SSTMeta) *SortedRun { return &SortedRun{ID: id, SSTs: ssts} }
	cases := []struct {
		name string
		c    CompactionLogPayload
		want error // nil: valid
		l0   []string
		runs []uint32
	}{
		{"L0 to new run", CompactionLogPayload{RemoveL0SSTs: []string{"n1", "n2"}, OutputRun: out(3, runSST("o", 0, 5))},
			nil, []string{"n3"}, []uint32{3, 2, 1}},
		{"all of L0", CompactionLogPayload{RemoveL0SSTs: []string{"n3", "n2", "n1"}, OutputRun: out(7, runSST("o", 0, 5))},
			nil, nil, []uint32{7, 2, 1}},
		{"merge runs in place", CompactionLogPayload{RemoveSortedRuns: []uint32{2, 1}, OutputRun: out(3, runSST("o", 0, 5))},
			nil, []string{"n3", "n2", "n1"}, []uint32{3}},
		{"replace a run under its id", CompactionLogPayload{RemoveSortedRuns: []uint32{1}, OutputRun: out(1, runSST("o", 0, 5))},
			nil, []string{"n3", "n2", "n1"}, []uint32{2, 1}},
		{"L0 and newest run", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, RemoveSortedRuns: []uint32{2}, OutputRun: out(3, runSST("o", 0, 5))},
			nil, []string{"n3", "n2"}, []uint32{3, 1}},
		{"trivial move of an L0 sst", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, OutputRun: out(3, func() SSTMeta { s := testSST("n1", 1); return s }())},
			nil, []string{"n3", "n2"}, []uint32{3, 2, 1}},
		{"retention delete", CompactionLogPayload{DeleteSSTs: []string{"c", "n2"}},
			nil, []string{"n3", "n1"}, []uint32{2}},
		{"empty", CompactionLogPayload{}, ErrInvalidEdit, nil, nil},
		{"L0 inputs not the oldest", CompactionLogPayload{RemoveL0SSTs: []string{"n2"}, OutputRun: out(3, runSST("o", 0, 5))}, ErrInvalidEdit, nil, nil},
		{"missing L0 input", CompactionLogPayload{RemoveL0SSTs: []string{"zz"}}, ErrSSTNotFound, nil, nil},
		{"run sst as L0 input", CompactionLogPayload{RemoveL0SSTs: []string{"c"}}, ErrInvalidEdit, nil, nil},
		{"missing run", CompactionLogPayload{RemoveSortedRuns: []uint32{9}, OutputRun: out(3, runSST("o", 0, 5))}, ErrSSTNotFound, nil, nil},
		{"run removed twice", CompactionLogPayload{RemoveSortedRuns: []uint32{1, 1}, OutputRun: out(3, runSST("o", 0, 5))}, ErrInvalidEdit, nil, nil},
		{"L0 with an old run", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, RemoveSortedRuns: []uint32{1}, OutputRun: out(3, runSST("o", 0, 5))}, ErrInvalidEdit, nil, nil},
		{"output id in use", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, OutputRun: out(1, runSST("o", 0, 5))}, ErrInvalidEdit, nil, nil},
		{"output overlaps itself", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, OutputRun: out(3, runSST("o", 0, 5), runSST("p", 5, 9))}, ErrInvalidEdit, nil, nil},
		{"output unsorted", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, OutputRun: out(3, runSST("p", 6, 9), runSST("o", 0, 5))}, ErrInvalidEdit, nil, nil},
		{"output reuses a live sst", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, OutputRun: out(3, runSST("c", 0, 5))}, ErrSSTExists, nil, nil},
		{"output without inputs", CompactionLogPayload{DeleteSSTs: []string{"c"}, OutputRun: out(3, runSST("o", 0, 5))}, ErrInvalidEdit, nil, nil},
		{"empty output", CompactionLogPayload{RemoveL0SSTs: []string{"n1"}, OutputRun: out(3)}, ErrInvalidEdit, nil, nil},
		{"delete twice", CompactionLogPayload{DeleteSSTs: []string{"c", "c"}}, ErrInvalidEdit, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := applyState()
			before := m.Clone()
			e := compaction(tc.c)
			err := validateEdit(m, e)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidEdit) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := applyEdit(m, e)
			mustEqual(t, "input untouched", m, before)
			if got := l0IDs(n); !slices.Equal(got, tc.l0) {
				t.Errorf("L0 = %v, want %v", got, tc.l0)
			}
			if got := runIDs(n); !slices.Equal(got, tc.runs) {
				t.Errorf("runs = %v, want %v", got, tc.runs)
			}
			if n.NextSortedRunID <= max(slices.Max(append(runIDs(n), 0)), 0) {
				t.Errorf("NextSortedRunID %d not above every run id %v", n.NextSortedRunID, runIDs(n))
			}
		})
	}
}

func TestValidateAddAndRemove(t *testing.T) {
	m := applyState()
	add := func(s SSTMeta) error {
		return validateEdit(m, &ManifestLogEntry{Kind: EntryAddSST, SST: &s})
	}
	if err := add(testSST("new", 9)); err != nil {
		t.Fatal(err)
	}
	if err := add(testSST("n1", 1)); !errors.Is(err, ErrSSTExists) {
		t.Fatalf("duplicate id: %v", err)
	}
	bad := []func(*SSTMeta){
		func(s *SSTMeta) { s.ID = "" },
		func(s *SSTMeta) { s.ID = "a/b" },
		func(s *SSTMeta) { s.ID = "a?b" },
		func(s *SSTMeta) { s.SeqLo = s.SeqHi + 1 },
		func(s *SSTMeta) { s.MinKey, s.MaxKey = s.MaxKey, s.MinKey },
		func(s *SSTMeta) { s.Size = -1 },
		func(s *SSTMeta) { s.Level = 1 },
	}
	for i, f := range bad {
		s := testSST("x", 1)
		f(&s)
		if err := add(s); !errors.Is(err, ErrInvalidEdit) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	rm := func(ids ...string) error {
		return validateEdit(m, &ManifestLogEntry{Kind: EntryRemoveSSTs, RemovedSSTs: ids})
	}
	if err := rm("n2", "b"); err != nil {
		t.Fatal(err)
	}
	if err := rm("n2", "zz"); !errors.Is(err, ErrSSTNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := rm(); !errors.Is(err, ErrInvalidEdit) {
		t.Fatalf("empty: %v", err)
	}
	n := applyEdit(m, &ManifestLogEntry{Kind: EntryRemoveSSTs, RemovedSSTs: []string{"n2", "c"}})
	if got := l0IDs(n); !slices.Equal(got, []string{"n3", "n1"}) {
		t.Fatalf("L0 %v", got)
	}
	if got := runIDs(n); !slices.Equal(got, []uint32{2}) {
		t.Fatalf("runs %v (an emptied run must disappear)", got)
	}
}

func TestStaleEntriesAreNoOps(t *testing.T) {
	m := newManifest()
	claim := func(seq Seq, role Role, epoch uint64) *ManifestLogEntry {
		return &ManifestLogEntry{Seq: seq, PrevHash: m.chain, Kind: EntryClaimFence, Role: role, Epoch: epoch, Owner: "o"}
	}
	must := func(n *Manifest, err error) *Manifest {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var err error
	m, err = step("t", m, claim(1, RoleWriter, 1), 11)
	if err != nil {
		t.Fatal(err)
	}
	m, err = step("t", m, &ManifestLogEntry{Seq: 2, PrevHash: 11, Kind: EntryAddSST, Role: RoleWriter, Epoch: 1, SST: ptr(testSST("a", 1))}, 12)
	if err != nil || m.L0SSTCount() != 1 {
		t.Fatal(err, m.L0SSTCount())
	}
	m = must(step("t", m, claim(3, RoleWriter, 2), 13))
	m = must(step("t", m, &ManifestLogEntry{Seq: 4, PrevHash: 13, Kind: EntryAddSST, Role: RoleWriter, Epoch: 1, SST: ptr(testSST("zombie", 2))}, 14))
	m = must(step("t", m, claim(5, RoleCompactor, 2), 15)) // a stale claim: epoch 2 is taken
	if m.LogSeq != 5 || m.L0SSTCount() != 1 || m.WriterFence.Epoch != 2 || m.CompactorFence != nil || m.NextEpoch != 3 {
		t.Fatalf("stale entries changed the state: %s", describe(m))
	}
	if _, err := step("t", m, &ManifestLogEntry{Seq: 6, PrevHash: 14, Kind: EntryClaimFence, Role: RoleWriter, Epoch: 3}, 99); !errors.Is(err, ErrCorruption) {
		t.Fatalf("broken chain: %v", err)
	}
	if _, err := step("t", m, &ManifestLogEntry{Seq: 7, PrevHash: 15, Kind: EntryClaimFence, Role: RoleWriter, Epoch: 3}, 1); !errors.Is(err, ErrCorruption) {
		t.Fatalf("skipped position: %v", err)
	}
	// A current entry that does not apply is corruption.
	if _, err := step("t", m, &ManifestLogEntry{Seq: 6, PrevHash: 15, Kind: EntryRemoveSSTs, Role: RoleWriter, Epoch: 2, RemovedSSTs: []string{"nope"}}, 1); !errors.Is(err, ErrCorruption) {
		t.Fatalf("invalid current entry: %v", err)
	}
}

func TestCheck(t *testing.T) {
	if err := applyState().Check(); err != nil {
		t.Fatal(err)
	}
	if err := fixtureManifest().Check(); err != nil {
		t.Fatal(err)
	}
	breakers := map[string]func(m *Manifest){
		"duplicate id":     func(m *Manifest) { m.SortedRuns[1].SSTs[0].ID = "n1" },
		"overlap in a run": func(m *Manifest) { m.SortedRuns[0].SSTs[1].MinKey = []byte("k000005") },
		"run id too large": func(m *Manifest) { m.SortedRuns[0].ID = 3 },
		"duplicate run":    func(m *Manifest) { m.SortedRuns[1].ID = 2 },
		"empty run":        func(m *Manifest) { m.SortedRuns[1].SSTs = nil },
		"fence epoch":      func(m *Manifest) { m.WriterFence = &FenceToken{Epoch: m.NextEpoch} },
		"shared epoch": func(m *Manifest) {
			m.NextEpoch = 5
			m.WriterFence = &FenceToken{Epoch: 2}
			m.CompactorFence = &FenceToken{Epoch: 2}
		},
		"bad sst":          func(m *Manifest) { m.L0SSTs[0].SeqLo = 1 << 60 },
		"zero next run id": func(m *Manifest) { m.NextSortedRunID = 0 },
	}
	for name, f := range breakers {
		m := applyState()
		f(m)
		if err := m.Check(); !errors.Is(err, ErrCorruption) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestManifestMethods(t *testing.T) {
	m := applyState()
	if m.L0SSTCount() != 3 || m.SortedRunCount() != 2 {
		t.Fatal("counts")
	}
	if got := m.AllSSTIDs(); !slices.Equal(got, []string{"n3", "n2", "n1", "a", "b", "c"}) {
		t.Fatalf("AllSSTIDs %v", got)
	}
	if s := m.LookupSST("b"); s == nil || s.ID != "b" {
		t.Fatal("LookupSST b")
	}
	if m.LookupSST("zz") != nil || m.GetSortedRun(9) != nil {
		t.Fatal("lookups of missing things")
	}
	if r := m.GetSortedRun(1); r == nil || r.SSTs[0].ID != "c" {
		t.Fatal("GetSortedRun")
	}
	if got := m.MaxSeqNum(); got != 110 { // sst b: testSST(10)
		t.Fatalf("MaxSeqNum %d", got)
	}
	if (&Manifest{}).MaxSeqNum() != 0 {
		t.Fatal("empty MaxSeqNum")
	}
	// Clone shares nothing.
	m.WriterFence = &FenceToken{Epoch: 1, Owner: "w"}
	m.L0SSTs[0].Signature = &SSTSignature{Signature: []byte{1}}
	c := m.Clone()
	mustEqual(t, "clone", c, m)
	c.L0SSTs[0].MinKey[0] = 'X'
	c.L0SSTs[0].Signature.Signature[0] = 9
	c.SortedRuns[0].SSTs[0].ID = "changed"
	c.WriterFence.Owner = "x"
	if m.L0SSTs[0].MinKey[0] == 'X' || m.L0SSTs[0].Signature.Signature[0] == 9 ||
		m.SortedRuns[0].SSTs[0].ID == "changed" || m.WriterFence.Owner == "x" {
		t.Fatal("Clone shares memory with the original")
	}
	if (*Manifest)(nil).Clone() != nil {
		t.Fatal("nil clone")
	}
}
