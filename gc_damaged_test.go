package isledb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/gc"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

// logBuffer is a slog destination tests read back.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// damageObject flips a byte in the middle of an object of the bucket.
func damageObject(t *testing.T, store *blobstore.Store, key string) []byte {
	t.Helper()
	ctx := context.Background()
	data, _, err := store.Read(ctx, key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	data[len(data)/2] ^= 0x5a
	if _, err := store.Write(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	return data
}

// setAsideCopies returns the contents of the copies of damaged GC state objects of key
// ("<key>.damaged-...").
func setAsideCopies(t *testing.T, store *blobstore.Store, key string) [][]byte {
	t.Helper()
	ctx := context.Background()
	objs, err := store.ListAll(ctx, "gc/")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, o := range objs {
		if strings.HasPrefix(o.Key, key+".damaged-") {
			data, _, err := store.Read(ctx, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, data)
		}
	}
	return out
}

// TestGCDamagedMarks reproduces issue 13, item 4: a damaged gc/marks made every GC pass and
// every compaction fail with ErrCorruption until someone repaired the object by hand. Now
// the damaged object is copied aside, replaced (by compare-and-swap) with empty marks, and
// a warning is logged; the pass carries on. The removal stamps that were lost are taken
// again: every SST out of the manifest (removed by a compaction, or an orphan) is deleted
// only a full grace period, on the GC clock, after the repair, never earlier, and then
// indeed deleted. Both the GC pass and the compaction path (which records its inputs as
// intents before its manifest append) repair.
func TestGCDamagedMarks(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		clock := newGCFakeClock()
		bucket := b.Open(t)
		store, rec := newGCRecorder(bucket, clock)
		db, err := OpenDB(ctx, store, DBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		flush := func(k int) {
			t.Helper()
			for range k {
				if err := w.Put(fmt.Appendf(nil, "key-%03d", n), fmt.Appendf(nil, "value-%03d", n)); err != nil {
					t.Fatal(err)
				}
				n++
				if err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		const grace = time.Hour
		var logs logBuffer
		c, err := db.OpenCompactor(ctx, CompactorOptions{
			L0CompactionThreshold: 2, GCGracePeriod: grace, GCInterval: time.Nanosecond,
			clock: clock.Now, Logger: logs.logger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		// An orphan of an older writer: GC marks it when it first sees it.
		orphan := base.NewSSTID(w.Fence().Epoch-1, 1_000)
		if _, err := store.Write(ctx, store.SSTPath(orphan), []byte("orphan")); err != nil {
			t.Fatal(err)
		}
		flush(2)
		// The compaction records its inputs as intents, and its GC pass stamps them (and
		// the orphan) at t0.
		if err := c.RunCompaction(ctx); err != nil {
			t.Fatal(err)
		}
		// Half a grace period later gc/marks is damaged; the lost stamps would let the
		// SSTs go at t0 + grace.
		clock.Advance(grace / 2)
		bad := damageObject(t, store, manifest.GCMarksKey)
		clock.Advance(grace / 2)
		repairedAt := clock.Now()
		st, err := c.RunGC(ctx)
		if err != nil {
			t.Fatalf("RunGC on damaged marks: %v", err)
		}
		if st.SSTsDeleted != 0 {
			t.Fatalf("the pass that found gc/marks damaged deleted %d ssts", st.SSTsDeleted)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), manifest.GCMarksKey) {
			t.Fatalf("no warning about the damaged marks; log:\n%s", logs.String())
		}
		copies := setAsideCopies(t, store, manifest.GCMarksKey)
		if len(copies) != 1 || !bytes.Equal(copies[0], bad) {
			t.Fatalf("want the damaged bytes set aside once, got %d copies", len(copies))
		}
		data, _, err := store.Read(ctx, manifest.GCMarksKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gc.DecodeMarks(data); err != nil {
			t.Fatalf("gc/marks after the repair: %v", err)
		}

		// The compaction path meets damaged marks too: it repairs them and compacts.
		damageObject(t, store, manifest.GCMarksKey)
		flush(2)
		if err := c.RunCompaction(ctx); err != nil {
			t.Fatalf("RunCompaction on damaged marks: %v", err)
		}
		if got := len(setAsideCopies(t, store, manifest.GCMarksKey)); got != 2 {
			t.Fatalf("%d copies set aside, want 2", got)
		}

		// Nothing goes before a full grace period after the repair...
		clock.Advance(grace - time.Nanosecond)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
		// ... then everything out of the manifest goes.
		clock.Advance(time.Nanosecond)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
		deleted := map[string]bool{}
		for _, ev := range rec.events {
			if ev.kind != gcDeleteSST {
				continue
			}
			deleted[ev.id] = true
			if ev.at.Sub(repairedAt) < grace {
				t.Errorf("sst %s deleted at %v, %v after the marks were rebuilt (grace %v)", ev.id, ev.at.Sub(gcClockBase), ev.at.Sub(repairedAt), grace)
			}
		}
		if !deleted[orphan] || len(deleted) != 5 { // the orphan and the 4 compacted L0 SSTs
			t.Fatalf("deleted %v: want the orphan and the 4 compacted L0 SSTs", deleted)
		}
		r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i := range n {
			k := fmt.Appendf(nil, "key-%03d", i)
			if v, ok, err := r.Get(ctx, k); err != nil || !ok || string(v) != fmt.Sprintf("value-%03d", i) {
				t.Fatalf("Get(%s) = %q, %v, %v", k, v, ok, err)
			}
		}
	})
}

// TestGCDamagedMarksRetention: the retention compactor's cleanup (intents, then a GC pass)
// repairs damaged marks too.
func TestGCDamagedMarksRetention(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Write(ctx, manifest.GCMarksKey, []byte("IGCM\x01garbage")); err != nil {
		t.Fatal(err)
	}
	w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_ = w.Put(fmt.Appendf(nil, "k%d", i), []byte("v"))
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var logs logBuffer
	var cleaned []CleanupStats
	r, err := db.OpenRetentionCompactor(ctx, RetentionCompactorOptions{
		RetentionCount: 1, RetentionPeriod: time.Nanosecond, Logger: logs.logger(),
		OnCleanup: func(st CleanupStats) { cleaned = append(cleaned, st) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunCleanup(ctx); err != nil {
		t.Fatalf("RunCleanup on damaged marks: %v", err)
	}
	if len(cleaned) != 1 || cleaned[0].SSTsDeleted != 2 || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("cleanups %+v; log:\n%s", cleaned, logs.String())
	}
}

// TestGCDamagedCheckpointFlush: a damaged gc/checkpoint (the blob GC state writers share)
// made every flush with blobs fail. Now the writer sets it aside, replaces it with a fresh
// state and logs a warning through DBOptions.Logger; the flush succeeds.
func TestGCDamagedCheckpointFlush(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		var logs logBuffer
		db, err := OpenDB(ctx, store, DBOptions{Logger: logs.logger()})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ckp := gc.EncodeCheckpoint(gc.Checkpoint{LastBlobGC: 5, BlobsDeleted: 3, Blobs: map[[32]byte]gc.BlobEntry{{7}: {State: gc.BlobCandidate, Size: 1}}})
		if _, err := store.Write(ctx, manifest.GCCheckpointKey, ckp); err != nil {
			t.Fatal(err)
		}
		bad := damageObject(t, store, manifest.GCCheckpointKey)
		wopts := WriterOptions{FlushInterval: -1}
		wopts.ValueStorage.BlobThreshold = 64
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatal(err)
		}
		value := bytes.Repeat([]byte("a value stored as a blob "), 8)
		if err := w.Put([]byte("k"), value); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("Flush with blobs on a damaged checkpoint: %v", err)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), manifest.GCCheckpointKey) {
			t.Fatalf("no warning about the damaged checkpoint; log:\n%s", logs.String())
		}
		if copies := setAsideCopies(t, store, manifest.GCCheckpointKey); len(copies) != 1 || !bytes.Equal(copies[0], bad) {
			t.Fatalf("want the damaged bytes set aside once, got %d copies", len(copies))
		}
		data, _, err := store.Read(ctx, manifest.GCCheckpointKey)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := gc.DecodeCheckpoint(data); err != nil || len(c.Blobs) != 0 || c.BlobsDeleted>>63 != 1 || c.LastBlobGC != 0 {
			t.Fatalf("checkpoint after the repair: %+v, %v", c, err)
		}
		// A second flush finds a sound checkpoint: no new copy.
		_ = w.Put([]byte("k2"), append([]byte("other "), value...))
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(setAsideCopies(t, store, manifest.GCCheckpointKey)); got != 1 {
			t.Fatalf("%d copies set aside, want 1", got)
		}
		r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got, ok, err := r.Get(ctx, []byte("k")); err != nil || !ok || !bytes.Equal(got, value) {
			t.Fatalf("Get = %d bytes, %v, %v", len(got), ok, err)
		}
	})
}

// TestGCDamagedCheckpointWaitingWriter: a writer waits for blob GC to finish deleting a
// blob it reuses (the blob is doomed in the checkpoint). The sweep deletes it, and the
// checkpoint is damaged before the sweep can record the deletion. The writer repairs the
// checkpoint (nothing is doomed in the fresh state), stops waiting, finds the blob it had
// seen doomed missing and puts it back: its flush succeeds and the value reads back.
func TestGCDamagedCheckpointWaitingWriter(t *testing.T) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("a blob blob GC is deleting "), 8)
	ref := blobref.Of(value)
	var (
		mu     sync.Mutex
		loads  int
		waited = make(chan struct{})
		resume = make(chan struct{})
	)
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		if op != "get" || !strings.HasSuffix(key, manifest.GCCheckpointKey) {
			return
		}
		mu.Lock()
		loads++
		n := loads
		mu.Unlock()
		if n == 3 { // W0 and a first W2 saw the blob doomed: the writer is waiting
			close(waited)
			<-resume
		}
	}
	store := blobstore.NewWithBackend(hb, "", "db")
	var logs logBuffer
	db, err := OpenDB(ctx, store, DBOptions{Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, _ := gc.BlobIDHash(ref.ID())
	if _, err := store.Write(ctx, store.BlobPath(ref.ID()), value); err != nil {
		t.Fatal(err)
	}
	doomed := gc.EncodeCheckpoint(gc.Checkpoint{BlobsDeleted: 1, Blobs: map[[32]byte]gc.BlobEntry{h: {State: gc.BlobDoomed, MarkedAt: 1, Size: int64(len(value))}}})
	if _, err := store.Write(ctx, manifest.GCCheckpointKey, doomed); err != nil {
		t.Fatal(err)
	}
	wopts := WriterOptions{FlushInterval: -1}
	wopts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("k"), value); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Flush(ctx) }()
	select {
	case <-waited:
	case err := <-done:
		t.Fatalf("Flush returned %v without waiting for the doomed blob", err)
	}
	// The sweep's delete lands; then the checkpoint is damaged before the sweep records it.
	if err := store.Delete(ctx, store.BlobPath(ref.ID())); err != nil {
		t.Fatal(err)
	}
	damageObject(t, store, manifest.GCCheckpointKey)
	close(resume)
	if err := <-done; err != nil {
		t.Fatalf("Flush after the checkpoint was damaged: %v", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("no warning; log:\n%s", logs.String())
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

// TestGCDamagedCheckpointBlobGC: blob GC on a damaged checkpoint restarts its candidate
// cycle from scratch: a blob that was a stamped candidate (one pass from being doomed)
// when the damage struck is marked, stamped and doomed again, MinAge after the repair, and
// only then deleted; GC passes and compactions do not fail meanwhile, and a warning is
// logged.
func TestGCDamagedCheckpointBlobGC(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	value := []byte("nobody refers to this blob any more")
	id := blobref.Of(value).ID()
	if _, err := store.Write(ctx, store.BlobPath(id), value); err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	clock := testutil.NewFakeClock(time.Now())
	var logs logBuffer
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCGracePeriod: time.Minute, GCInterval: time.Nanosecond, clock: clock.Now, Logger: logs.logger(),
		BlobGC: config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	exists := func() bool {
		ok, err := store.Exists(ctx, store.BlobPath(id))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	pass := func(what string) {
		t.Helper()
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatalf("%s: RunGC: %v", what, err)
		}
		if err := c.RunCompaction(ctx); err != nil {
			t.Fatalf("%s: RunCompaction: %v", what, err)
		}
	}
	// Candidate, then stamped.
	clock.Advance(2 * minAge)
	pass("mark")
	clock.Advance(time.Minute)
	pass("stamp")
	if !exists() {
		t.Fatal("deleted before it was doomed")
	}
	damageObject(t, store, manifest.GCCheckpointKey)
	// MinAge after the lost stamp: the old state would doom it now. The fresh state makes
	// it a candidate again.
	clock.Advance(minAge)
	pass("after the damage")
	if !exists() {
		t.Fatal("blob GC deleted a blob less than a full cycle after its state was lost")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), manifest.GCCheckpointKey) {
		t.Fatalf("no warning about the damaged checkpoint; log:\n%s", logs.String())
	}
	clock.Advance(time.Minute)
	pass("stamp again")
	clock.Advance(minAge - time.Nanosecond)
	pass("just before MinAge after the new stamp")
	if !exists() {
		t.Fatal("blob GC deleted the blob before MinAge after its new stamp")
	}
	clock.Advance(time.Nanosecond)
	pass("MinAge after the new stamp")
	if exists() {
		t.Fatal("blob GC never deleted the unreferenced blob after the repair")
	}
}

// TestGCDamagedMarksRandom runs random flushes, compactions (a quarter of whose manifest
// appends fail), GC passes, orphan uploads and waits on the GC clock, and damages gc/marks
// at random steps. After every step the recorded requests are checked against GC safety
// (gcRecorder.check), and against what a repair promises: every SST deleted after a damage
// at time tD is deleted at tD + grace or later (whatever was pending lost its stamp; what
// left the manifest or was uploaded later is younger anyway). Compactions and passes never
// fail on the damage, and in the end, once quiet, GC deletes everything no manifest names.
func TestGCDamagedMarksRandom(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed=", seed+1), func(t *testing.T) { runGCDamagedMarksRandom(t, seed+1) })
	}
}

func runGCDamagedMarksRandom(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 13))
	const grace = time.Minute
	clock := newGCFakeClock()
	store, rec := newGCRecorder(blobstore.NewMemory("db"), clock)
	rec.beforePut = func(key string, data []byte) error {
		if strings.HasPrefix(key, "manifest/log/") {
			if e, err := manifest.DecodeLogEntry(key, data); err == nil && e.Kind == manifest.EntryCompaction && rng.IntN(4) == 0 {
				return errGCInjected
			}
		}
		return nil
	}
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		L0CompactionThreshold: 2, MinSources: 2, MaxSources: 3, TargetSSTSize: 2 << 10, BlockSize: 512,
		GCGracePeriod: grace, GCInterval: time.Nanosecond, clock: clock.Now, Logger: logs.logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	type damage struct {
		events int // recorded events before it
		at     time.Time
	}
	var damages []damage
	verify := func(step int, what string) {
		t.Helper()
		if _, err := rec.check(grace); err != nil {
			t.Fatalf("step %d (%s): %v", step, what, err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, d := range damages {
			// SSTs uploaded after the damage are left out: GC deletes them a grace
			// period after their upload at the earliest, and a compaction whose append
			// failed deletes its outputs at once.
			later := map[string]bool{}
			for _, ev := range rec.events[d.events:] {
				if ev.kind == gcPutSST {
					later[ev.id] = true
				}
				if ev.kind == gcDeleteSST && !later[ev.id] && ev.at.Sub(d.at) < grace {
					t.Fatalf("step %d (%s): sst %s deleted %v after gc/marks was damaged (grace %v)", step, what, ev.id, ev.at.Sub(d.at), grace)
				}
			}
		}
	}
	damaged := 0
	for step := range 50 {
		var what string
		switch op := rng.IntN(10); {
		case op < 3:
			what = "flush"
			for range 1 + rng.IntN(20) {
				_ = w.Put(fmt.Appendf(nil, "key-%03d", rng.IntN(200)), bytes.Repeat([]byte{'v'}, rng.IntN(100)))
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatalf("step %d: Flush: %v", step, err)
			}
		case op < 5:
			what = "compaction"
			if err := c.RunCompaction(ctx); err != nil && !errors.Is(err, errGCInjected) {
				t.Fatalf("step %d: RunCompaction: %v", step, err)
			}
		case op < 6:
			what = "gc"
			if _, err := c.RunGC(ctx); err != nil {
				t.Fatalf("step %d: RunGC: %v", step, err)
			}
		case op < 7:
			what = "orphan"
			if _, err := store.Write(ctx, store.SSTPath(base.NewSSTID(0, uint64(step))), []byte("junk")); err != nil {
				t.Fatal(err)
			}
		case op < 8:
			what = "damage gc/marks"
			rec.mu.Lock()
			d := damage{events: len(rec.events), at: clock.Now()}
			rec.mu.Unlock()
			// Damage that never cancels out: the object with a byte more (or junk).
			data, _, err := store.Read(ctx, manifest.GCMarksKey)
			if err != nil && !errors.Is(err, blobstore.ErrNotFound) {
				t.Fatal(err)
			}
			if _, err := store.Write(ctx, manifest.GCMarksKey, append(data, byte(step))); err != nil {
				t.Fatal(err)
			}
			damages = append(damages, d)
			damaged++
		default:
			d := time.Duration(1+rng.IntN(4))*grace/4 + time.Duration(rng.IntN(3)-1)
			what = fmt.Sprint("wait ", d)
			clock.Advance(d)
		}
		verify(step, what)
	}
	for range 2 {
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatalf("final RunGC: %v", err)
		}
		clock.Advance(grace)
	}
	if _, err := c.RunGC(ctx); err != nil {
		t.Fatalf("final RunGC: %v", err)
	}
	verify(-1, "final gc")
	live, _ := rec.check(grace)
	objs, err := store.ListSSTFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(live) {
		t.Fatalf("%d sst objects left, %d live", len(objs), len(live))
	}
	if damaged > 0 && !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("gc/marks damaged %d times, no warning", damaged)
	}
}

// TestGCDamagedCheckpointDuringSweep: the checkpoint is damaged while a sweep's delete is
// on its way. The sweep completes (its recording of the deletion meets the damage,
// repairs it, and RunGC succeeds), and since the blob it deleted is no longer in the state
// it warns, naming the blob, that a writer may have stopped waiting for it.
func TestGCDamagedCheckpointDuringSweep(t *testing.T) {
	ctx := context.Background()
	value := []byte("an unreferenced blob that blob GC deletes")
	id := blobref.Of(value).ID()
	var once sync.Once
	var store *blobstore.Store
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend()}
	hb.Before = func(op, key string) {
		if op == "delete" && strings.HasSuffix(key, "blob/"+id) {
			once.Do(func() { damageObject(t, store, manifest.GCCheckpointKey) })
		}
	}
	store = blobstore.NewWithBackend(hb, "", "db")
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Write(ctx, store.BlobPath(id), value); err != nil {
		t.Fatal(err)
	}
	const minAge = time.Hour
	clock := testutil.NewFakeClock(time.Now())
	var logs logBuffer
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		GCInterval: time.Nanosecond, clock: clock.Now, Logger: logs.logger(),
		BlobGC: config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: minAge},
	})
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for range 3 { // mark, stamp, doom and sweep
		clock.Advance(2 * minAge)
		st, err := c.RunGC(ctx)
		if err != nil {
			t.Fatalf("RunGC: %v", err)
		}
		deleted += st.BlobsDeleted
	}
	if ok, _ := store.Exists(ctx, store.BlobPath(id)); ok {
		t.Fatal("the blob was not deleted")
	}
	if deleted != 0 {
		t.Fatalf("%d blobs counted as deleted: the deletion was never recorded in the state", deleted)
	}
	out := logs.String()
	if !strings.Contains(out, "damaged GC state set aside") || !strings.Contains(out, "had left the blob GC state") || !strings.Contains(out, id) {
		t.Fatalf("want warnings about the repair and the untracked deletion; log:\n%s", out)
	}
}
