package isledb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestWriterUnflushed: GetUnflushed and ScanUnflushed see the writes that are not in the
// manifest yet (active and frozen memtables, newest version first, deletes included),
// stop seeing them once flushed, and report the flushed sequence number that a reader
// refreshed afterwards covers.
func TestWriterUnflushed(t *testing.T) {
	ctx := context.Background()
	store := testutil.Backends(testutil.Core)[0].Open(t)
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o := isledb.DefaultWriterOptions()
	o.FlushInterval = -1
	w, err := db.OpenWriter(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Put([]byte("a"), []byte("1"))
	_ = w.Put([]byte("b"), []byte("2"))
	_ = w.Put([]byte("a"), []byte("3"))
	_ = w.Delete([]byte("c"))
	e, found, flushed, err := w.GetUnflushed([]byte("a"))
	if err != nil || !found || string(e.Value) != "3" || e.Deleted || flushed != 0 {
		t.Fatalf("GetUnflushed(a) = %+v, %v, %d, %v", e, found, flushed, err)
	}
	if e, found, _, _ := w.GetUnflushed([]byte("c")); !found || !e.Deleted {
		t.Fatalf("GetUnflushed(c) = %+v, %v: want the delete", e, found)
	}
	ents, _, err := w.ScanUnflushed([]byte("a"), []byte("b"))
	if err != nil || len(ents) != 2 || string(ents[0].Value) != "3" || string(ents[1].Key) != "b" {
		t.Fatalf("ScanUnflushed(a, b) = %+v, %v", ents, err)
	}
	if s := w.UnflushedStats(); s.Memtables != 1 || s.Entries != 4 || s.Bytes == 0 {
		t.Fatalf("UnflushedStats = %+v", s)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = w.Put([]byte("b"), []byte("4"))
	_, found, flushed, _ = w.GetUnflushed([]byte("a"))
	if found || flushed != 4 {
		t.Fatalf("after Flush: GetUnflushed(a) found %v, flushed seq %d; want false, 4", found, flushed)
	}
	ents, _, _ = w.ScanUnflushed(nil, nil)
	if len(ents) != 1 || fmt.Sprintf("%s=%s", ents[0].Key, ents[0].Value) != "b=4" {
		t.Fatalf("after Flush: ScanUnflushed = %+v", ents)
	}
	if n, err := w.VerifyWAL(); n != 0 || err != nil {
		t.Fatalf("VerifyWAL without a WAL = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := w.GetUnflushed([]byte("a")); err == nil {
		t.Fatal("GetUnflushed after Close: no error")
	}
}
