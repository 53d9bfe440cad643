package isledb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestRefreshAndPrefetchSSTs: after RefreshAndPrefetchSSTs, reads of every key send no
// request to the bucket; the original-style cache stats agree with ours.
func TestRefreshAndPrefetchSSTs(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		w, err := db.OpenWriter(ctx, isledb.WriterOptions{FlushInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		ropts := isledb.DefaultReaderOpenOptions()
		ropts.CacheDir = t.TempDir()
		r, err := isledb.OpenReader(ctx, store, ropts)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for f := range 4 {
			for i := range 10 {
				if err := w.Put([]byte(fmt.Sprintf("k%d-%d", f, i)), []byte("v")); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.RefreshAndPrefetchSSTs(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(r.Manifest().L0SSTs); n != 4 {
			t.Fatalf("%d L0 SSTs after the refresh, want 4", n)
		}
		before := store.Stats()
		for f := range 4 {
			for i := range 10 {
				if _, ok, err := r.Get(ctx, []byte(fmt.Sprintf("k%d-%d", f, i))); err != nil || !ok {
					t.Fatalf("get: %v %v", ok, err)
				}
			}
		}
		if d := store.Stats().Sub(before); d.Requests() != 0 {
			t.Errorf("reads after the prefetch sent requests: %v", d)
		}
		s := r.SSTCacheStats()
		if s.Hits != s.DiskHits || s.Misses != s.DiskMisses || s.Misses != 4 || s.Size != s.DiskBytes || s.Size <= 0 ||
			s.MaxSize != ropts.SSTCacheSize || s.EntryCount != 4 {
			t.Errorf("SST cache stats: %+v", s)
		}
		bs := r.BlobCacheStats()
		if bs.MaxSize != ropts.BlobCacheSize || bs.Size != bs.Bytes || bs.EntryCount != bs.Items {
			t.Errorf("blob cache stats: %+v", bs)
		}
	})
}

// TestSmallMemtable: memtables down to MinMemtableSize (1 KiB) are accepted and flush on
// their own as they fill; smaller ones are refused.
func TestSmallMemtable(t *testing.T) {
	ctx := context.Background()
	store := testutil.Backends(testutil.Core)[0].Open(t)
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.OpenWriter(ctx, isledb.WriterOptions{MemtableSize: isledb.MinMemtableSize - 1}); err == nil {
		t.Fatal("a memtable below MinMemtableSize was accepted")
	}
	w, err := db.OpenWriter(ctx, isledb.WriterOptions{MemtableSize: isledb.MinMemtableSize, FlushInterval: -1, MaxImmutableMemtables: 64})
	if err != nil {
		t.Fatalf("MemtableSize %d: %v", isledb.MinMemtableSize, err)
	}
	for i := range 100 {
		if err := w.Put([]byte(fmt.Sprintf("key-%03d", i)), make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ropts := isledb.DefaultReaderOpenOptions()
	ropts.CacheDir = t.TempDir()
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// 100 writes of ~110 bytes (plus overhead) into 1 KiB memtables: at least 10 SSTs.
	if n := len(r.Manifest().L0SSTs); n < 10 {
		t.Errorf("%d SSTs, want at least 10", n)
	}
	kvs, err := r.Scan(ctx, nil, nil)
	if err != nil || len(kvs) != 100 {
		t.Fatalf("scan: %d pairs, %v", len(kvs), err)
	}
}
