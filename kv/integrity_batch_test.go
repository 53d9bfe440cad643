package kv_test

import (
	"testing"
)

// TestValidateIntegrityWithBatches: a store whose write-ahead log holds batch records is
// reported intact. ValidateIntegrity used to report the WAL as damaged as soon as one
// batch had been applied (the engine's VerifyWAL read batch records as corrupt single
// writes).
func TestValidateIntegrityWithBatches(t *testing.T) {
	s, _ := openTest(t, nil)
	b := s.NewBatch()
	b.PutInt64([]byte("a"), 1)
	b.PutString([]byte("b"), "two")
	b.Delete([]byte("c"))
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBool([]byte("d"), true); err != nil {
		t.Fatal(err)
	}
	rep, err := s.ValidateIntegrity()
	if err != nil || len(rep.Damaged) != 0 {
		t.Fatalf("ValidateIntegrity = %+v, %v; want intact", rep, err)
	}
	if rep.WALRecords != 4 {
		t.Fatalf("WALRecords %d, want 4 (three batched writes and one Put)", rep.WALRecords)
	}
}
