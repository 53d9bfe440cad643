package isledb_test

import (
	"context"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// TestReadmeGettingStarted runs the seed README's code as written (import path changed):
// a file store, a DB, a writer that puts a batch and flushes, a reader that gets it.
func TestReadmeGettingStarted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	store, err := blobstore.NewFile(ctx, dir+"/data", "db1")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	opts := isledb.DefaultWriterOptions()
	writer, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()

	batch := []struct {
		key   string
		value string
	}{
		{key: "hello", value: "world"},
		{key: "foo", value: "bar"},
	}
	for _, kv := range batch {
		if err := writer.Put([]byte(kv.key), []byte(kv.value)); err != nil {
			t.Fatal(err)
		}
	}
	if err := writer.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	reader, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{
		CacheDir: dir + "/cache",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	value, ok, err := reader.Get(ctx, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if !ok || string(value) != "world" {
		t.Fatalf("Get(hello) = %q, %v; want world", value, ok)
	}
	kvs, err := reader.Scan(ctx, nil, nil)
	if err != nil || len(kvs) != 2 || string(kvs[0].Key) != "foo" || string(kvs[1].Value) != "world" {
		t.Fatalf("Scan = %v, %v", kvs, err)
	}
}

// TestQuickStart runs the API reference's quick start on a memory store opened by URL.
func TestQuickStart(t *testing.T) {
	ctx := context.Background()
	store, err := blobstore.Open(ctx, "mem://", "mydb")
	if err != nil {
		t.Fatal(err)
	}
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Put([]byte("key"), []byte("value")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ro := isledb.DefaultReaderOpenOptions()
	ro.CacheDir = t.TempDir()
	r, err := isledb.OpenReader(ctx, store, ro)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	val, found, err := r.Get(ctx, []byte("key"))
	if err != nil || !found || string(val) != "value" {
		t.Fatalf("Get = %q, %v, %v", val, found, err)
	}
}
