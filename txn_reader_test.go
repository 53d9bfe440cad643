package isledb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestTxnReaderOptions: WriterOptions.TxnReader puts the transactions' reader where the
// caller says (and Close leaves that directory alone); invalid reader options fail
// OpenWriter.
func TestTxnReaderOptions(t *testing.T) {
	testutil.ForEach(t, testutil.Core, testTxnReaderOptions)
}

func testTxnReaderOptions(t *testing.T, b testutil.Backend) {
	ctx := context.Background()
	db := openTestDB(t, b.Open(t))
	dir := filepath.Join(t.TempDir(), "txn-cache")
	ro := isledb.ReaderOpenOptions{CacheDir: dir, BlockCacheSize: 1 << 20}
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.TxnReader = &ro
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	x, err := w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := x.Get(ctx, []byte("k")); err != nil || !ok || string(v) != "v" {
		t.Fatalf("txn Get = %q, %v, %v", v, ok, err)
	}
	_ = x.Rollback()
	if _, err := os.Stat(filepath.Join(dir, "sst")); err != nil {
		t.Fatalf("the transactions' reader did not use TxnReader.CacheDir: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Close removed the caller's TxnReader.CacheDir: %v", err)
	}

	bad := isledb.DefaultWriterOptions()
	bad.TxnReader = &isledb.ReaderOpenOptions{BlockCacheSize: -1}
	if err := bad.Validate(); !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("TxnReader with a negative BlockCacheSize: %v", err)
	}
}
