package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestReaderReadsBucketWAL: with ReadBucketWAL a tailing reader sees a write after its
// Sync and one Refresh, before any flush (Get, Scan and Tail); a reader without it does
// not; once flushed and the WAL objects collected, the reader reads the SST.
func TestReaderReadsBucketWAL(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
		defer db.Close()
		w, err := db.OpenWriter(ctx, bucketWALOptions(isledb.BucketWALOnSync))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Put([]byte("a"), []byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		tr, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{
			ReaderOptions: isledb.ReaderOpenOptions{CacheDir: t.TempDir(), ReadBucketWAL: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		plain, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		get := func(k, want string) {
			t.Helper()
			v, ok, err := tr.Get(ctx, []byte(k))
			if err != nil || (want == "") == ok || string(v) != want {
				t.Fatalf("Get(%s) = %q, %v, %v; want %q", k, v, ok, err, want)
			}
		}
		get("a", "1") // read at open
		if _, ok, _ := plain.Get(ctx, []byte("a")); ok {
			t.Fatal("a reader without ReadBucketWAL sees an unflushed write")
		}
		// A batch overwriting a and deleting nothing yet, then a delete of a.
		bt := w.NewBatch()
		bt.Put([]byte("a"), []byte("2"))
		bt.Put([]byte("b"), []byte("3"))
		if err := w.Apply(ctx, bt); err != nil {
			t.Fatal(err)
		}
		if err := w.Delete([]byte("c-absent")); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		get("a", "2")
		get("b", "3")
		kvs, err := tr.Scan(ctx, nil, nil)
		if err != nil || len(kvs) != 2 || string(kvs[0].Value) != "2" || string(kvs[1].Key) != "b" {
			t.Fatalf("Scan = %v, %v", kvs, err)
		}
		// The change feed has every write, in sequence order, before any flush.
		var feed []string
		next, err := tr.Reader().Changes(ctx, isledb.ChangeOptions{}, func(c isledb.Change) error {
			feed = append(feed, fmt.Sprintf("%d:%s=%s/%v", c.Seq, c.Key, c.Value, c.Delete))
			return nil
		})
		if err != nil || next != 5 || fmt.Sprint(feed) != "[1:a=1/false 2:a=2/false 3:b=3/false 4:c-absent=/true]" {
			t.Fatalf("Changes = %d, %v: %v", next, err, feed)
		}
		// Tail delivers them too (in key order), before any flush.
		tctx, cancel := context.WithCancel(ctx)
		var seen []string
		err = tr.Tail(tctx, isledb.TailOptions{}, func(kv isledb.KV) error {
			seen = append(seen, string(kv.Key)+"="+string(kv.Value))
			if len(seen) == 2 {
				cancel()
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) || fmt.Sprint(seen) != "[a=2 b=3]" {
			t.Fatalf("Tail = %v, saw %v", err, seen)
		}
		if err := w.Delete([]byte("a")); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		get("a", "")
		// Flushed: the overlay empties and the SSTs answer, with the same result.
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.Put([]byte("d"), []byte("4")); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		get("a", "")
		get("b", "3")
		get("d", "4")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
