package isledb_test

import (
	"context"
	"testing"

	"github.com/isledb/isledb/blobstore"
)

// TestVerifyWALWithBatches: VerifyWAL reads back a log holding batch records (version 3)
// as well as single writes, and counts each batch's writes. It used to decode every
// record as a single write and report a batch as corruption.
func TestVerifyWALWithBatches(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, blobstore.NewMemory("db"))
	w, err := db.OpenWriter(ctx, walWriterOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := w.NewBatch()
	b.Put([]byte("a"), []byte("1"))
	b.Put([]byte("b"), []byte("2"))
	b.Delete([]byte("c"))
	if err := w.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("d"), []byte("4")); err != nil {
		t.Fatal(err)
	}
	n, err := w.VerifyWAL()
	if err != nil || n != 4 {
		t.Fatalf("VerifyWAL = %d, %v; want 4 writes, no error", n, err)
	}
}
