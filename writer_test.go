package isledb_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

func TestWriterRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.ValueStorage.MaxKeySize = 8
	opts.ValueStorage.MaxValueSize = 16
	opts.ValueStorage.BlobThreshold = 8
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	before := store.Stats()
	cases := []struct {
		err error
		do  func() error
	}{
		{isledb.ErrEmptyKey, func() error { return w.Put(nil, []byte("v")) }},
		{isledb.ErrEmptyKey, func() error { return w.Delete([]byte{}) }},
		{isledb.ErrKeyTooLarge, func() error { return w.Put([]byte("123456789"), []byte("v")) }},
		{isledb.ErrValueTooLarge, func() error { return w.Put([]byte("k"), bytes.Repeat([]byte("v"), 17)) }},
		{isledb.ErrInvalidTTL, func() error { return w.PutWithTTL([]byte("k"), []byte("v"), 0) }},
		{isledb.ErrInvalidTTL, func() error { return w.DeleteWithTTL([]byte("k"), -time.Second) }},
	}
	for i, c := range cases {
		if err := c.do(); !errors.Is(err, c.err) {
			t.Errorf("case %d: %v, want %v", i, err, c.err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if d := store.Stats().Sub(before); d.Puts+d.CondPuts != 0 {
		t.Fatalf("rejected writes caused requests: %v", d)
	}
	if _, err := db.OpenWriter(ctx, isledb.WriterOptions{MemtableSize: 1, BlockSize: 1, Compression: "gzip", MaxImmutableMemtables: -1}); !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("bad options: %v", err)
	} else {
		for _, f := range []string{"MemtableSize", "BlockSize", "Compression", "MaxImmutableMemtables"} {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("options error %q does not name %s", err, f)
			}
		}
	}
}

// TestWriterFenced: a second writer fences the first, whose next flush fails with
// manifest.ErrFenced and publishes nothing.
func TestWriterFenced(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1
	var mu sync.Mutex
	var got []error
	opts.OnFlushError = func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }
	a, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put([]byte("k"), []byte("from-a")); err != nil {
		t.Fatal(err)
	}
	b, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Flush(ctx); !errors.Is(err, manifest.ErrFenced) {
		t.Fatalf("fenced writer's Flush: %v, want ErrFenced", err)
	}
	if err := a.Put([]byte("k2"), []byte("x")); !errors.Is(err, manifest.ErrFenced) {
		t.Fatalf("fenced writer's Put: %v, want ErrFenced", err)
	}
	mu.Lock()
	if len(got) == 0 || !errors.Is(got[0], manifest.ErrFenced) {
		t.Fatalf("OnFlushError got %v", got)
	}
	mu.Unlock()
	_ = a.Close()
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok, _ := r.Get(ctx, []byte("k")); ok {
		t.Fatal("a fenced writer's data was published")
	}
	if r.Manifest().WriterFence.Epoch != b.Fence().Epoch {
		t.Fatal("writer fence is not the newest writer's")
	}
}

func TestWriterBackpressure(t *testing.T) {
	ctx := context.Background()
	// Every SST upload is held until release is closed, so the flusher cannot keep up and
	// backpressure must be reported: this does not depend on how fast the machine is.
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		if op == "put" && strings.Contains(key, "sst/") {
			<-release
		}
	}
	store := blobstore.NewWithBackend(hb, "", "db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.MemtableSize = 64 << 10
	opts.MaxImmutableMemtables = 1
	opts.FlushInterval = -1
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	val := bytes.Repeat([]byte("v"), 1000)
	acked := 0
	bp := false
	// Two memtables of 64 KiB hold about 130 such entries: the third fill must be refused.
	for i := 0; i < 1000 && !bp; i++ {
		err := w.Put([]byte{byte(i >> 8), byte(i)}, val)
		switch {
		case errors.Is(err, isledb.ErrBackpressure):
			bp = true
		case err != nil:
			t.Fatal(err)
		default:
			acked++
		}
	}
	if !bp {
		t.Fatalf("%d Puts accepted with every flush held: no ErrBackpressure", acked)
	}
	// Once uploads go through, a Flush drains everything and writes are accepted again.
	unblock()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("after"), val); err != nil {
		t.Fatalf("Put after draining: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; i < acked; i++ {
		got, ok, err := r.Get(ctx, []byte{byte(i >> 8), byte(i)})
		if err != nil || !ok || !bytes.Equal(got, val) {
			t.Fatalf("acknowledged key %d after backpressure: ok=%v err=%v", i, ok, err)
		}
	}
}

// TestFlushRequestCount: one flush is one SST PUT plus the manifest append; blobs are
// written once each and deduplicated by content.
func TestFlushRequestCount(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1
	opts.ValueStorage.BlobThreshold = 1024
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := bytes.Repeat([]byte("b"), 2048)
	for i := range 1000 {
		if err := w.Put([]byte{byte(i >> 8), byte(i)}, []byte("small")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Put([]byte("big1"), big); err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("big2"), big); err != nil { // same content: one blob
		t.Fatal(err)
	}
	before := store.Stats()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	d := store.Stats().Sub(before)
	if d.Puts != 1 {
		t.Fatalf("flush made %d plain PUTs, want 1 (the SST): %v", d.Puts, d)
	}
	blobs, _ := store.ListBlobFiles(ctx)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs, want 1", len(blobs))
	}
	t.Logf("one flush: %v", d)
}
