package isledb_test

import (
	"context"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

func TestZZIdleDefault(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	w, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	w.Put([]byte("a"), []byte("b"))
	w.Flush(ctx)
	tr, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{ReaderOptions: isledb.ReaderOpenOptions{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.Start()
	time.Sleep(16 * time.Second)
	before := store.Stats()
	time.Sleep(48 * time.Second)
	d := store.Stats().Sub(before)
	t.Logf("idle default tailer over 48 s: %s = %.3f req/s", d, float64(d.Requests())/48)
}
