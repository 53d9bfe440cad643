package isledb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

// TestCustomManifestStorage: with DBOptions.ManifestStorage (and the reader's), the
// manifest lives where the option says and the SSTs in the DB's store.
func TestCustomManifestStorage(t *testing.T) {
	ctx := context.Background()
	data := blobstore.NewMemory("data")
	meta := blobstore.NewMemory("meta")
	ms := manifest.NewBlobStorage(meta)
	db, err := isledb.OpenDB(ctx, data, isledb.DBOptions{ManifestStorage: ms, GCMarkStorage: manifest.NewBlobGCMarkStorage(meta)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := isledb.DefaultWriterOptions()
	opts.OwnerID = "writer-under-test"
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w.Fence().Owner != "writer-under-test" {
		t.Fatalf("fence owner %q", w.Fence().Owner)
	}
	writeKeys(t, w, 0, 10)
	_ = w.Close()
	if objs, _ := data.ListAll(ctx, "manifest/"); len(objs) != 0 {
		t.Fatalf("manifest objects in the data store: %v", objs)
	}
	if objs, _ := meta.ListAll(ctx, "manifest/"); len(objs) == 0 {
		t.Fatal("no manifest objects in the manifest store")
	}
	if ssts, _ := data.ListSSTFiles(ctx); len(ssts) != 1 {
		t.Fatalf("%d SSTs in the data store, want 1", len(ssts))
	}
	r, err := isledb.OpenReader(ctx, data, isledb.ReaderOpenOptions{CacheDir: t.TempDir(), ManifestStorage: ms})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v, ok, err := r.Get(ctx, []byte("key-00004")); err != nil || !ok || string(v) != "val-00004" {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
	if r.Manifest().WriterFence.Owner != "writer-under-test" {
		t.Fatal("manifest fence owner differs")
	}
	// A reader without the option sees an empty database in the data store.
	r2, err := isledb.OpenReader(ctx, data, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, ok, _ := r2.Get(ctx, []byte("key-00004")); ok {
		t.Fatal("the manifest was found in the data store")
	}
}

func TestClosedHandles(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	w, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	_ = w.Put([]byte("k"), []byte("v"))
	if err := db.Close(); err != nil { // closes (and flushes) the writer
		t.Fatal(err)
	}
	if err := w.Put([]byte("k2"), []byte("v")); !errors.Is(err, isledb.ErrClosed) {
		t.Fatalf("Put after DB.Close: %v", err)
	}
	if _, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions()); !errors.Is(err, isledb.ErrClosed) {
		t.Fatalf("OpenWriter after DB.Close: %v", err)
	}
	r, _ := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if v, ok, _ := r.Get(ctx, []byte("k")); !ok || string(v) != "v" {
		t.Fatal("DB.Close did not flush the writer")
	}
	_ = r.Close()
	if _, _, err := r.Get(ctx, []byte("k")); !errors.Is(err, isledb.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{}); !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("OpenReader without CacheDir: %v", err)
	}
}
