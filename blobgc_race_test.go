package isledb

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/gc"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

// TestBlobGCReuseRace reproduces issue 12, defect 3: blob GC has decided to delete an old
// unreferenced blob and its delete request is on its way when the writer Puts the same
// content under another key and flushes (the blob exists, so the writer reuses it). The
// delete request is held until the writer has either published its SST or consulted the
// blob GC state. Before the fix, Flush returned nil and the key's Get then failed with
// "blobstore: not found" forever; now the writer waits for the deletion to finish, uploads
// the blob again and only then publishes, so the Get returns the value.
//
// Events are ordered by request hooks and a fake GC clock, never by sleeping.
func TestBlobGCReuseRace(t *testing.T) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("blob content shared by two keys "), 8)
	blobID := blobref.Of(value).ID()
	isBlob := func(key string) bool { return strings.HasSuffix(key, "blob/"+blobID) }

	var (
		mu            sync.Mutex
		holding       bool // the GC's delete of the blob is held
		deleteReached = make(chan struct{})
		releaseDelete = make(chan struct{})
		writerAsked   = make(chan struct{}, 1) // the GC state was read while the delete was held
	)
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		switch {
		case op == "delete" && isBlob(key):
			mu.Lock()
			first := !holding
			holding = true
			mu.Unlock()
			if first {
				close(deleteReached)
				<-releaseDelete
			}
		case op == "get" && strings.HasSuffix(key, manifest.GCCheckpointKey):
			mu.Lock()
			h := holding
			mu.Unlock()
			if h {
				// The GC is inside its delete: only the writer reads the state now.
				select {
				case writerAsked <- struct{}{}:
				default:
				}
			}
		}
	}
	store := blobstore.NewWithBackend(hb, "", "db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The blob, unreferenced (say a flush that crashed before its SST was uploaded left it).
	if _, err := store.Write(ctx, store.BlobPath(blobID), value); err != nil {
		t.Fatal(err)
	}
	wopts := WriterOptions{FlushInterval: -1}
	wopts.ValueStorage.BlobThreshold = 64
	wopts.ValueStorage.MinAge = time.Nanosecond // before the fix: the writer always rewrites a reused blob
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCInterval: time.Nanosecond,
		BlobGC:     config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewFakeClock(time.Now())
	c.gc.SetClock(clock.Now)

	// Run GC passes, each 2×MinAge after the last, until one sends the blob's delete.
	gcDone := make(chan error, 1)
	reached := false
	for range 4 {
		clock.Advance(2 * minAge)
		go func() { _, err := c.RunGC(ctx); gcDone <- err }()
		select {
		case <-deleteReached:
			reached = true
		case err := <-gcDone:
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}
	if !reached {
		t.Fatal("blob GC never deleted the old unreferenced blob")
	}

	// The writer reuses the blob while the delete is held.
	flushDone := make(chan error, 1)
	go func() {
		if err := w.Put([]byte("k"), value); err != nil {
			flushDone <- err
			return
		}
		flushDone <- w.Flush(ctx)
	}()
	var flushErr error
	flushed := false
	select {
	case flushErr = <-flushDone:
		flushed = true
	case <-writerAsked:
	}
	close(releaseDelete)
	if err := <-gcDone; err != nil {
		t.Fatalf("RunGC: %v", err)
	}
	if !flushed {
		flushErr = <-flushDone
	}
	if flushErr != nil {
		t.Fatalf("Flush: %v", flushErr)
	}

	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, ok, err := r.Get(ctx, []byte("k"))
	if err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("Get after a flush that reused a blob GC was deleting = %d bytes, %v, %v", len(got), ok, err)
	}
	// Later passes leave it alone: an SST refers to it.
	for range 3 {
		clock.Advance(2 * minAge)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := r.Get(ctx, []byte("k")); err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("Get after more GC passes = %d bytes, %v, %v", len(got), ok, err)
	}
}

// TestBlobGCWriterClaimsCandidate: a blob that blob GC has marked and stamped as a
// candidate, then reused by a flush, is taken back by the writer (removed from the
// candidates) and never deleted, however many passes follow; the writer does not rewrite it.
func TestBlobGCWriterClaimsCandidate(t *testing.T) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("a candidate reused "), 10)
	blobID := blobref.Of(value).ID()
	hash, _ := gc.BlobIDHash(blobID)
	var mu sync.Mutex
	blobPuts := 0
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		if op == "put" && strings.HasSuffix(key, "blob/"+blobID) {
			mu.Lock()
			blobPuts++
			mu.Unlock()
		}
	}
	store := blobstore.NewWithBackend(hb, "", "db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Write(ctx, store.BlobPath(blobID), value); err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCInterval: time.Nanosecond,
		BlobGC:     config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewFakeClock(time.Now())
	c.gc.SetClock(clock.Now)
	state := func() (gc.BlobEntry, bool) {
		t.Helper()
		ckp, err := c.gc.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := ckp.Blobs[hash]
		return e, ok
	}
	runGC := func() {
		t.Helper()
		clock.Advance(2 * minAge)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runGC()
	if e, ok := state(); !ok || e.State != gc.BlobCandidate || e.MarkedAt != 0 {
		t.Fatalf("after one pass: %+v, %v; want an unstamped candidate", e, ok)
	}
	runGC()
	if e, ok := state(); !ok || e.State != gc.BlobCandidate || e.MarkedAt == 0 {
		t.Fatalf("after two passes: %+v, %v; want a stamped candidate", e, ok)
	}

	wopts := WriterOptions{FlushInterval: -1}
	wopts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	blobPuts = 0
	mu.Unlock()
	if err := w.Put([]byte("k"), value); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if e, ok := state(); ok {
		t.Fatalf("after the flush the blob is still in the blob GC state: %+v", e)
	}
	mu.Lock()
	puts := blobPuts
	mu.Unlock()
	if puts != 1 { // the put-if-absent that found it
		t.Fatalf("the flush sent %d puts of the reused blob, want 1", puts)
	}
	for range 4 {
		runGC()
	}
	if st := c.Stats().GC; st.BlobsDeleted != 0 {
		t.Fatalf("blob GC deleted %d blobs", st.BlobsDeleted)
	}
	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, ok, err := r.Get(ctx, []byte("k")); err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("Get = %d bytes, %v, %v", len(got), ok, err)
	}
}

// TestBlobGCMinAgeRelation: blob GC's MinAge must be at least the grace period, for both
// kinds of compactor.
func TestBlobGCMinAgeRelation(t *testing.T) {
	blob := config.BlobGCOptions{Enabled: true, MinAge: time.Minute}
	c := CompactorOptions{GCGracePeriod: 10 * time.Minute, BlobGC: blob}
	c.EnsureDefaults()
	if err := c.Validate(); !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "MinAge") {
		t.Fatalf("CompactorOptions with MinAge < GCGracePeriod: %v", err)
	}
	c.GCGracePeriod = time.Minute
	if err := c.Validate(); err != nil {
		t.Fatalf("CompactorOptions with MinAge = GCGracePeriod: %v", err)
	}
	r := RetentionCompactorOptions{GCGracePeriod: 10 * time.Minute, BlobGC: blob}
	r.EnsureDefaults()
	if err := r.Validate(); !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "MinAge") {
		t.Fatalf("RetentionCompactorOptions with MinAge < GCGracePeriod: %v", err)
	}
	// Disabled, the relation does not matter; the defaults satisfy it.
	d := DefaultCompactorOptions()
	d.BlobGC.Enabled = true
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults with blob GC: %v", err)
	}
}

// transientErr is a failure the store retries.
type transientErr struct{}

func (transientErr) Error() string   { return "test: reply lost" }
func (transientErr) Transient() bool { return true }

// TestBlobGCLostDeleteReply: blob GC's delete of a doomed blob lands but its reply is lost,
// so the store sends it again. In between, a flush puts the same content: its put-if-absent
// succeeds (the blob is gone), and the retried delete then removes the new copy. The writer
// must see the blob doomed, wait for the sweep to end, and put it back before publishing.
func TestBlobGCLostDeleteReply(t *testing.T) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("deleted twice "), 12)
	blobID := blobref.Of(value).ID()
	isBlob := func(key string) bool { return strings.HasSuffix(key, "blob/"+blobID) }
	var (
		mu          sync.Mutex
		deletes     int
		landed      = make(chan struct{})
		release     = make(chan struct{})
		writerAsked = make(chan struct{}, 1)
	)
	inner := blobstore.NewMemory("").Backend()
	hb := &testutil.HookBackend{Backend: inner}
	hb.Before = func(op, key string) {
		if op == "get" && strings.HasSuffix(key, manifest.GCCheckpointKey) {
			mu.Lock()
			held := deletes == 1
			mu.Unlock()
			if held {
				select {
				case writerAsked <- struct{}{}:
				default:
				}
			}
		}
	}
	lossy := &lossyDelete{Backend: hb, match: isBlob, mu: &mu, n: &deletes, landed: landed, release: release}
	store := blobstore.NewWithBackend(lossy, "", "db")
	store.SetRetryPolicy(blobstore.RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Write(ctx, store.BlobPath(blobID), value); err != nil {
		t.Fatal(err)
	}
	wopts := WriterOptions{FlushInterval: -1}
	wopts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCInterval: time.Nanosecond,
		BlobGC:     config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewFakeClock(time.Now())
	c.gc.SetClock(clock.Now)
	gcDone := make(chan error, 1)
	reached := false
	for range 4 {
		clock.Advance(2 * minAge)
		go func() { _, err := c.RunGC(ctx); gcDone <- err }()
		select {
		case <-landed:
			reached = true
		case err := <-gcDone:
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}
	if !reached {
		t.Fatal("blob GC never deleted the old unreferenced blob")
	}
	flushDone := make(chan error, 1)
	go func() {
		if err := w.Put([]byte("k"), value); err != nil {
			flushDone <- err
			return
		}
		flushDone <- w.Flush(ctx)
	}()
	var flushErr error
	flushed := false
	select {
	case flushErr = <-flushDone:
		flushed = true
	case <-writerAsked:
	}
	close(release) // the lost reply arrives as an error; the store sends the delete again
	if err := <-gcDone; err != nil {
		t.Fatalf("RunGC: %v", err)
	}
	if !flushed {
		flushErr = <-flushDone
	}
	if flushErr != nil {
		t.Fatalf("Flush: %v", flushErr)
	}
	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, ok, err := r.Get(ctx, []byte("k")); err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("Get = %d bytes, %v, %v", len(got), ok, err)
	}
}

// lossyDelete lets the first delete of a matching key land, then holds its reply until
// release is closed and reports it lost (a transient error, which the store retries).
type lossyDelete struct {
	blobstore.Backend
	match   func(string) bool
	mu      *sync.Mutex
	n       *int
	landed  chan struct{}
	release chan struct{}
}

func (l *lossyDelete) Delete(ctx context.Context, key string) error {
	if !l.match(key) {
		return l.Backend.Delete(ctx, key)
	}
	l.mu.Lock()
	*l.n++
	first := *l.n == 1
	l.mu.Unlock()
	err := l.Backend.Delete(ctx, key)
	if first && err == nil {
		close(l.landed)
		<-l.release
		l.mu.Lock()
		*l.n = 2
		l.mu.Unlock()
		return transientErr{}
	}
	return err
}

// TestBlobGCLostDeleteReplyBeforeLook: like TestBlobGCLostDeleteReply, but the sweep's
// retried delete and its removal of the blob from the GC state both happen after the
// writer's put-if-absent created a new copy and before the writer looks at the GC state
// again; the blob was not doomed when the writer first looked. The writer must notice the
// sweep (the checkpoint's count of deleted blobs moved) and put the blob back.
func TestBlobGCLostDeleteReplyBeforeLook(t *testing.T) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("deleted twice, unseen "), 10)
	blobID := blobref.Of(value).ID()
	isBlob := func(key string) bool { return strings.HasSuffix(key, "blob/"+blobID) }
	var (
		mu          sync.Mutex
		phase       int // 1: the writer is flushing; 2: its blob put is going through
		deletes     int
		writerAtPut = make(chan struct{})
		putGo       = make(chan struct{})
		landed      = make(chan struct{})
		release     = make(chan struct{})
		gcDone      = make(chan error, 1)
		gcFinished  = make(chan struct{})
	)
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		mu.Lock()
		p := phase
		mu.Unlock()
		switch {
		case p == 1 && op == "put" && isBlob(key):
			close(writerAtPut)
			<-putGo // held while blob GC marks, stamps and dooms the blob
			mu.Lock()
			phase = 2 // blob GC is held inside its delete: only the writer reads now
			mu.Unlock()
		case p == 2 && op == "get" && strings.HasSuffix(key, manifest.GCCheckpointKey):
			// The writer's look after its put (blob GC is held inside its delete): let the
			// sweep finish first.
			mu.Lock()
			phase = 3
			mu.Unlock()
			close(release)
			<-gcFinished
		}
	}
	lossy := &lossyDelete{Backend: hb, match: isBlob, mu: &mu, n: &deletes, landed: landed, release: release}
	store := blobstore.NewWithBackend(lossy, "", "db")
	store.SetRetryPolicy(blobstore.RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Write(ctx, store.BlobPath(blobID), value); err != nil {
		t.Fatal(err)
	}
	wopts := WriterOptions{FlushInterval: -1}
	wopts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCInterval: time.Nanosecond,
		BlobGC:     config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewFakeClock(time.Now())
	c.gc.SetClock(clock.Now)

	// The writer looks at the GC state (nothing there yet), then is held at its blob put.
	mu.Lock()
	phase = 1
	mu.Unlock()
	flushDone := make(chan error, 1)
	go func() {
		if err := w.Put([]byte("k"), value); err != nil {
			flushDone <- err
			return
		}
		flushDone <- w.Flush(ctx)
	}()
	select {
	case <-writerAtPut:
	case err := <-flushDone:
		t.Fatalf("the flush did not put the blob: %v", err)
	}
	// Blob GC marks, stamps and dooms the blob; its delete lands and the reply is held.
	reached := false
	for range 4 {
		clock.Advance(2 * minAge)
		go func() { _, err := c.RunGC(ctx); gcDone <- err }()
		select {
		case <-landed:
			reached = true
		case err := <-gcDone:
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}
	if !reached {
		t.Fatal("blob GC never deleted the old unreferenced blob")
	}
	// The writer's put-if-absent now creates a new copy; its next look at the GC state
	// releases the lost reply and waits until the sweep (retried delete included) is over.
	var gcErr error
	go func() {
		gcErr = <-gcDone
		close(gcFinished)
	}()
	close(putGo)
	if err := <-flushDone; err != nil {
		t.Fatalf("Flush: %v", err)
	}
	<-gcFinished
	if gcErr != nil {
		t.Fatalf("RunGC: %v", gcErr)
	}
	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, ok, err := r.Get(ctx, []byte("k")); err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("Get = %d bytes, %v, %v", len(got), ok, err)
	}
}

// TestBlobGCStalledFlush: a flush stalls between putting its new blob and uploading its
// SST for longer than blob GC needs to mark, stamp, doom and delete the unreferenced blob
// (a suspended process, a PUT retried for hours). The writer looks at the blob GC state
// again once the SST is in the bucket, sees the deletion, and puts the blob back before
// publishing: no time bound on a flush is assumed (found in review of issue 12).
func TestBlobGCStalledFlush(t *testing.T) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("a blob written by a flush that stalls "), 8)
	blobID := blobref.Of(value).ID()
	var once sync.Once
	sstReached := make(chan struct{})
	releaseSST := make(chan struct{})
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		if op == "put" && strings.Contains(key, "sst/") {
			once.Do(func() { close(sstReached); <-releaseSST })
		}
	}
	store := blobstore.NewWithBackend(hb, "", "db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wopts := WriterOptions{FlushInterval: -1}
	wopts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCInterval: time.Nanosecond, GCGracePeriod: time.Minute,
		BlobGC: config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewFakeClock(time.Now())
	c.gc.SetClock(clock.Now)

	if err := w.Put([]byte("k"), value); err != nil {
		t.Fatal(err)
	}
	flushDone := make(chan error, 1)
	go func() { flushDone <- w.Flush(ctx) }()
	<-sstReached // the blob is in the bucket, the SST upload is held
	for range 5 {
		clock.Advance(2 * minAge)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := store.Exists(ctx, store.BlobPath(blobID)); err != nil || ok {
		t.Fatalf("blob GC did not delete the unreferenced blob while the flush stalled (exists %v, %v)", ok, err)
	}
	close(releaseSST)
	if err := <-flushDone; err != nil {
		t.Fatalf("Flush: %v", err)
	}
	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, ok, err := r.Get(ctx, []byte("k")); err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("Get after a stalled flush = %d bytes, %v, %v", len(got), ok, err)
	}
}

// TestBlobGCRequiresSharedMarkStorage: writers keep their blobs from blob GC through the
// DB's GC mark storage, so a compactor with blob GC on another storage is refused.
func TestBlobGCRequiresSharedMarkStorage(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other := manifest.NewBlobGCMarkStorage(blobstore.NewMemory("elsewhere"))
	blob := config.BlobGCOptions{Enabled: true, Interval: time.Hour, MinAge: 24 * time.Hour}
	if _, err := db.OpenCompactor(ctx, CompactorOptions{GCMarkStorage: other, BlobGC: blob}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("compactor with blob GC on another mark storage: %v, want ErrInvalidOptions", err)
	}
	if _, err := db.OpenRetentionCompactor(ctx, RetentionCompactorOptions{GCMarkStorage: other, BlobGC: blob}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("retention compactor with blob GC on another mark storage: %v, want ErrInvalidOptions", err)
	}
	c, err := db.OpenCompactor(ctx, CompactorOptions{GCMarkStorage: db.gcmarks, BlobGC: blob})
	if err != nil {
		t.Fatalf("compactor on the DB's own mark storage: %v", err)
	}
	_ = c.Close()
	if c, err := db.OpenCompactor(ctx, CompactorOptions{GCMarkStorage: other}); err != nil {
		t.Fatalf("another mark storage without blob GC: %v", err)
	} else {
		_ = c.Close()
	}
}
