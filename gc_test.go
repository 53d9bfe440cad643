package isledb

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

var gcSeeds = flag.Int("gc.seeds", 16, "seeds of TestGCSafety on the memory store (a quarter on file, an eighth on S3)")

func TestGCMarksRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		marks := gcMarks{}
		for range rng.IntN(20) {
			id := fmt.Sprintf("%020d-%020d-%08x", rng.Uint64N(100), rng.Uint64(), rng.Uint32())
			marks[id] = gcMark{removedAt: rng.Int64N(1 << 62), epoch: rng.Uint64(), flags: uint8(rng.IntN(8)), size: rng.Int64N(1 << 40)}
		}
		got, err := decodeGCMarks(encodeGCMarks(marks))
		if err != nil || !maps.Equal(got, marks) {
			t.Fatalf("round trip of %v = %v, %v", marks, got, err)
		}
		c := gcCheckpoint{lastBlobGC: rng.Int64(), logSeq: rng.Uint64(), blobsDeleted: rng.Uint64(), blobs: map[[32]byte]blobEntry{}}
		for range rng.IntN(20) {
			var h [32]byte
			for i := range h {
				h[i] = byte(rng.IntN(256))
			}
			c.blobs[h] = blobEntry{state: uint8(1 + rng.IntN(2)), markedAt: rng.Int64N(1 << 62), size: rng.Int64N(1 << 40)}
		}
		if got, err := decodeGCCheckpoint(encodeGCCheckpoint(c)); err != nil || !checkpointsEqual(got, c) {
			t.Fatalf("checkpoint round trip of %v = %v, %v", c, got, err)
		}
	}
}

// TestGCFormatGolden pins the bytes of both GC objects: a change here is a format change.
func TestGCFormatGolden(t *testing.T) {
	marks := gcMarks{
		"a": {removedAt: 0, epoch: 3, flags: markRefsKnown | markBlobRefs, size: 4096},
		"b": {removedAt: 1_700_000_000_000_000_000, flags: markOrphan, size: 10},
	}
	const wantMarks = "4947434d01020161000303802001628080d0e2c6bfce972f00040aedaae242"
	if got := hex.EncodeToString(encodeGCMarks(marks)); got != wantMarks {
		t.Errorf("marks encode to %s, want %s", got, wantMarks)
	}
	// Version 1 of the checkpoint is no longer written, and still read.
	const ckpV1 = "49474343018080a8b1e39fe7cb172a0745476927"
	v1, _ := hex.DecodeString(ckpV1)
	if got, err := decodeGCCheckpoint(v1); err != nil || !checkpointsEqual(got, gcCheckpoint{lastBlobGC: 850_000_000_000_000_000, logSeq: 42, blobsDeleted: 7}) {
		t.Errorf("checkpoint v1 %s decodes to %+v, %v", ckpV1, got, err)
	}
	// Version 2: one candidate not yet stamped, one stamped, one doomed.
	ckp := gcCheckpoint{lastBlobGC: 850_000_000_000_000_000, logSeq: 42, blobsDeleted: 7, blobs: map[[32]byte]blobEntry{
		{0x01}:       {state: blobCandidate, size: 300},
		{0x02, 0xff}: {state: blobCandidate, markedAt: 1_700_000_000_000_000_000, size: 1 << 20},
		{0xab}:       {state: blobDoomed, markedAt: 5, size: 1},
	}}
	const wantCkp = "49474343028080a8b1e39fe7cb172a0703" +
		"0100000000000000000000000000000000000000000000000000000000000000" + "0100ac02" +
		"02ff000000000000000000000000000000000000000000000000000000000000" + "018080d0e2c6bfce972f808040" +
		"ab00000000000000000000000000000000000000000000000000000000000000" + "020a01" +
		"1acbc79c"
	if got := hex.EncodeToString(encodeGCCheckpoint(ckp)); got != wantCkp {
		t.Errorf("checkpoint encodes to %s, want %s", got, wantCkp)
	}
	v2, _ := hex.DecodeString(wantCkp)
	if got, err := decodeGCCheckpoint(v2); err != nil || !checkpointsEqual(got, ckp) {
		t.Errorf("checkpoint v2 decodes to %+v, %v", got, err)
	}
}

func checkpointsEqual(a, b gcCheckpoint) bool {
	return a.lastBlobGC == b.lastBlobGC && a.logSeq == b.logSeq && a.blobsDeleted == b.blobsDeleted && maps.Equal(a.blobs, b.blobs)
}

func FuzzDecodeGCMarks(f *testing.F) {
	f.Add(encodeGCMarks(gcMarks{"x": {epoch: 1, size: 5}, "y": {removedAt: 9, flags: markOrphan}}))
	f.Add(encodeGCMarks(gcMarks{}))
	f.Add([]byte("IGCM\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		marks, err := decodeGCMarks(data)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			return
		}
		again, err := decodeGCMarks(encodeGCMarks(marks))
		if err != nil || !maps.Equal(again, marks) {
			t.Fatalf("re-encoding %v gives %v, %v", marks, again, err)
		}
	})
}

func FuzzDecodeGCCheckpoint(f *testing.F) {
	f.Add(encodeGCCheckpoint(gcCheckpoint{lastBlobGC: 5, logSeq: 6, blobsDeleted: 7}))
	f.Add(encodeGCCheckpoint(gcCheckpoint{lastBlobGC: 5, blobs: map[[32]byte]blobEntry{{1}: {state: blobCandidate, size: 3}, {2}: {state: blobDoomed, markedAt: 9}}}))
	v1, _ := hex.DecodeString("49474343018080a8b1e39fe7cb172a0745476927")
	f.Add(v1)
	f.Add([]byte("IGCC"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeGCCheckpoint(data)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			return
		}
		if again, err := decodeGCCheckpoint(encodeGCCheckpoint(c)); err != nil || !checkpointsEqual(again, c) {
			t.Fatalf("re-encoding %v gives %v, %v", c, again, err)
		}
	})
}

func TestGCCorruptMarks(t *testing.T) {
	good := encodeGCMarks(gcMarks{"x": {epoch: 1, size: 5}})
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x40
		if _, err := decodeGCMarks(bad); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flipping byte %d: %v", i, err)
		}
	}
	// A GC pass refuses to work on corrupt marks: it deletes nothing.
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, _ := OpenDB(ctx, store, DBOptions{})
	defer db.Close()
	if _, err := store.Write(ctx, manifest.GCMarksKey, good[:len(good)-1]); err != nil {
		t.Fatal(err)
	}
	c, err := db.OpenCompactor(ctx, CompactorOptions{GCGracePeriod: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunGC(ctx); !errors.Is(err, ErrCorruption) {
		t.Fatalf("RunGC on corrupt marks = %v", err)
	}
}

// TestGCSafety runs random interleavings of writes and flushes, compactions (in-line, or by
// the background loop on some seeds), GC passes, reader refreshes, orphan uploads and the
// passing of time, and checks after every step that every SST of the current manifest, and
// of every manifest superseded less than a grace period ago, is still in the bucket. In the
// end, with everything quiet, GC deletes every SST the manifest does not name.
func TestGCSafety(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		n := *gcSeeds
		switch b.Name {
		case "file":
			n = max(n/4, 2)
		case "s3":
			n = max(n/8, 2)
		}
		for seed := range uint64(n) {
			t.Run(fmt.Sprint("seed=", seed+1), func(t *testing.T) { runGCSafety(t, b.Open(t), seed+1) })
		}
	})
}

// gcVersion is a set of SSTs that some manifest named, and a lower bound on the time that
// manifest stopped being current (zero while it is current).
type gcVersion struct {
	ids       []string
	lastSeen  time.Time
	supersede time.Time
}

func runGCSafety(t *testing.T, store *blobstore.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 99))
	background := seed%3 == 0
	grace := 40 * time.Millisecond
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (background %v): %s", seed, background, fmt.Sprintf(format, args...))
	}
	db, err := OpenDB(ctx, store, DBOptions{})
	if err != nil {
		fail("%v", err)
	}
	defer db.Close()
	wopts := DefaultWriterOptions()
	wopts.FlushInterval = -1
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		fail("%v", err)
	}
	var mu sync.Mutex
	var versions []*gcVersion
	note := func(ids []string) { // SSTs live at this moment
		mu.Lock()
		versions = append(versions, &gcVersion{ids: ids, lastSeen: time.Now(), supersede: time.Now()})
		mu.Unlock()
	}
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		L0CompactionThreshold: 2 + rng.IntN(2), MinSources: 2, MaxSources: 3, TargetSSTSize: 2 << 10,
		BlockSize: 512, CheckInterval: 2 * time.Millisecond, GCGracePeriod: grace, GCInterval: time.Nanosecond,
		OnCompactionStart: func(j CompactionJob) { note(j.InputSSTs) },
		OnCompactionEnd: func(j CompactionJob, err error) {
			// A failed job deletes its outputs: only a published run is live.
			if err == nil && j.OutputRun != nil {
				var ids []string
				for _, s := range j.OutputRun.SSTs {
					ids = append(ids, s.ID)
				}
				note(ids)
			}
		},
	})
	if err != nil {
		fail("%v", err)
	}
	if background {
		c.Start()
		defer c.Stop()
	}
	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir(), RangeReadMinSSTSize: 1})
	if err != nil {
		fail("%v", err)
	}
	defer r.Close()
	ms := manifest.NewStore(store)
	var cur *gcVersion
	var last *manifest.Manifest
	observe := func() {
		t0 := time.Now()
		m, err := ms.ReplayFrom(ctx, last)
		if err != nil {
			fail("replay: %v", err)
		}
		last = m
		ids := m.AllSSTIDs()
		slices.Sort(ids)
		mu.Lock()
		defer mu.Unlock()
		if cur != nil && slices.Equal(cur.ids, ids) {
			cur.lastSeen = t0
			return
		}
		if cur != nil {
			cur.supersede = cur.lastSeen
		}
		cur = &gcVersion{ids: ids, lastSeen: t0}
		versions = append(versions, cur)
	}
	check := func(step int, what string) {
		objs, err := store.ListSSTFiles(ctx)
		if err != nil {
			fail("list: %v", err)
		}
		now := time.Now() // after the listing: an object missing from it was deleted before now
		have := map[string]bool{}
		for _, o := range objs {
			have[strings.TrimSuffix(strings.TrimPrefix(o.Key, "sst/"), ".sst")] = true
		}
		mu.Lock()
		defer mu.Unlock()
		for _, v := range versions {
			if v != cur && now.Sub(v.supersede) >= grace {
				continue
			}
			for _, id := range v.ids {
				if !have[id] {
					fail("step %d (%s): sst %s was deleted though a manifest superseded %v ago (current: %v) names it",
						step, what, id, now.Sub(v.supersede), v == cur)
				}
			}
		}
	}
	observe()
	var orphans []string
	for step := range 60 {
		var what string
		switch op := rng.IntN(10); {
		case op < 4:
			what = "flush"
			for range 1 + rng.IntN(30) {
				_ = w.Put(fmt.Appendf(nil, "key-%03d", rng.IntN(300)), bytes.Repeat([]byte{'v'}, rng.IntN(100)))
			}
			if err := w.Flush(ctx); err != nil {
				fail("step %d: Flush: %v", step, err)
			}
		case op < 6:
			what = "compaction"
			if !background {
				if err := c.RunCompaction(ctx); err != nil {
					fail("step %d: RunCompaction: %v", step, err)
				}
			}
		case op < 7:
			what = "gc"
			if _, err := c.RunGC(ctx); err != nil {
				fail("step %d: RunGC: %v", step, err)
			}
		case op < 8:
			what = "refresh"
			if err := r.Refresh(ctx); err != nil {
				fail("step %d: Refresh: %v", step, err)
			}
			if _, err := r.Scan(ctx, nil, nil); err != nil {
				fail("step %d: Scan: %v", step, err)
			}
		case op < 9:
			what = "orphan"
			id := newSSTID(0, uint64(step)) // a crashed flush of a writer long gone
			if _, err := store.Write(ctx, store.SSTPath(id), []byte("junk")); err != nil {
				fail("%v", err)
			}
			orphans = append(orphans, id)
		default:
			what = "wait"
			time.Sleep(grace / 3)
		}
		observe()
		check(step, what)
	}
	c.Stop()
	// Quiet: GC deletes everything the manifest does not name, orphans included.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.RunGC(ctx); err != nil {
			fail("final RunGC: %v", err)
		}
		observe()
		check(-1, "final gc")
		objs, _ := store.ListSSTFiles(ctx)
		if len(objs) == len(cur.ids) {
			break
		}
		if time.Now().After(deadline) {
			fail("GC left %d objects for %d live SSTs (orphans written: %d)", len(objs), len(cur.ids), len(orphans))
		}
		time.Sleep(grace / 4)
	}
	// A refreshed reader reads everything after GC.
	if err := r.Refresh(ctx); err != nil {
		fail("%v", err)
	}
	if _, err := r.Scan(ctx, nil, nil); err != nil {
		fail("scan after GC: %v", err)
	}
}

// TestGCKeepsInFlightFlush: an SST of the current writer above the manifest's sequence
// numbers (a flush between its upload and its manifest append) is never deleted; once a
// new writer fences that writer, it is an orphan like any other.
func TestGCKeepsInFlightFlush(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, _ := OpenDB(ctx, store, DBOptions{})
	defer db.Close()
	w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Put([]byte("a"), []byte("1"))
	_ = w.Flush(ctx)
	c, err := db.OpenCompactor(ctx, CompactorOptions{GCGracePeriod: time.Millisecond, GCInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	inflight := newSSTID(w.Fence().Epoch, 100)
	if _, err := store.Write(ctx, store.SSTPath(inflight), []byte("pending")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		time.Sleep(3 * time.Millisecond)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := store.Exists(ctx, store.SSTPath(inflight)); !ok {
		t.Fatal("GC deleted a flush in flight")
	}
	if _, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, _ := store.Exists(ctx, store.SSTPath(inflight)); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the orphan of a fenced writer was never deleted")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBlobGC: blobs that only replaced values referred to are deleted once no SST object
// references them (after the SSTs' own grace period), shared and live blobs stay, and a
// young unreferenced blob (a flush in flight) stays until MinAge.
func TestBlobGC(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, _ := OpenDB(ctx, store, DBOptions{})
		defer db.Close()
		wopts := WriterOptions{FlushInterval: -1}
		wopts.ValueStorage.BlobThreshold = 64
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatal(err)
		}
		big := func(s string) []byte { return []byte(s + strings.Repeat("#", 100)) }
		want := map[string][]byte{}
		for gen := range 4 {
			for i := range 10 {
				k := fmt.Sprintf("key-%02d", i)
				v := big(fmt.Sprintf("gen-%d-%d", gen, i))
				if i == 0 {
					v = big("shared") // the same blob in every generation
				}
				if i >= 8 && gen > 0 {
					continue // written once: never replaced
				}
				_ = w.Put([]byte(k), v)
				want[k] = v
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		c, err := db.OpenCompactor(ctx, CompactorOptions{
			L0CompactionThreshold: 2, GCGracePeriod: 5 * time.Millisecond, GCInterval: time.Nanosecond,
			BlobGC: config.BlobGCOptions{Enabled: true, Interval: time.Nanosecond, MinAge: 5 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		young := blobref.Of([]byte("a flush in flight"))
		if _, err := store.Write(ctx, store.BlobPath(young.ID()), []byte("a flush in flight")); err != nil {
			t.Fatal(err)
		}
		if err := c.RunCompaction(ctx); err != nil {
			t.Fatal(err)
		}
		// The blobs that must survive: the values of the newest versions.
		live := map[string]bool{}
		for _, v := range want {
			live[blobref.Of(v).ID()] = true
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			blobs, err := store.ListBlobFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, o := range blobs {
				ids[strings.TrimPrefix(o.Key, "blob/")] = true
			}
			for id := range live {
				if !ids[id] {
					t.Fatalf("live blob %s deleted", id)
				}
			}
			if len(ids) == len(live) {
				break // the young one went too, once MinAge passed
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d blobs left, %d live", len(ids), len(live))
			}
			time.Sleep(2 * time.Millisecond)
			if _, err := c.RunGC(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for k, v := range want {
			if got, ok, err := r.Get(ctx, []byte(k)); err != nil || !ok || !bytes.Equal(got, v) {
				t.Fatalf("Get(%s) = %q, %v, %v", k, got, ok, err)
			}
		}
		st := c.Stats().GC
		if st.BlobsDeleted < 3*7 {
			t.Fatalf("gc stats: %v", st)
		}
		// The checkpoint records the blob pass.
		data, _, ok, err := db.gcmarks.LoadGCCheckpoint(ctx)
		if err != nil || !ok {
			t.Fatalf("no checkpoint: %v", err)
		}
		ckp, err := decodeGCCheckpoint(data)
		if err != nil || ckp.lastBlobGC == 0 || ckp.blobsDeleted != uint64(st.BlobsDeleted) {
			t.Fatalf("checkpoint %+v, %v (stats %v)", ckp, err, st)
		}
	})
}

// TestBlobGCInterval: a new compactor honours the interval recorded in the checkpoint.
func TestBlobGCInterval(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, _ := OpenDB(ctx, store, DBOptions{})
	defer db.Close()
	orphan := blobref.Of([]byte("nobody refers to me"))
	if _, err := store.Write(ctx, store.BlobPath(orphan.ID()), []byte("nobody refers to me")); err != nil {
		t.Fatal(err)
	}
	o := CompactorOptions{GCInterval: time.Nanosecond, GCGracePeriod: time.Nanosecond, BlobGC: config.BlobGCOptions{Enabled: true, Interval: time.Hour, MinAge: time.Hour}}
	open := func() *Compactor {
		t.Helper()
		c, err := db.OpenCompactor(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := open().RunGC(ctx); err != nil { // runs blob GC (too young to mark) and records it
		t.Fatal(err)
	}
	o.BlobGC.MinAge = time.Nanosecond
	c2 := open()
	clock := &fakeClock{now: time.Now()}
	c2.gc.clock = clock.Now
	for range 3 {
		clock.Advance(time.Minute)
		if _, err := c2.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := store.Exists(ctx, store.BlobPath(orphan.ID())); !ok {
		t.Fatal("blob GC ran again before its interval")
	}
	if ckp, err := c2.gc.checkpoint(ctx); err != nil || len(ckp.blobs) != 0 {
		t.Fatalf("blob GC marked before its interval: %+v, %v", ckp, err)
	}
	o.BlobGC.Interval = time.Nanosecond
	c3 := open()
	c3.gc.clock = clock.Now
	// Marked, stamped, then doomed and deleted: three passes.
	for i := range 3 {
		if ok, _ := store.Exists(ctx, store.BlobPath(orphan.ID())); !ok {
			t.Fatalf("the blob was deleted after %d passes: mark-then-sweep takes three", i)
		}
		clock.Advance(time.Minute)
		if _, err := c3.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := store.Exists(ctx, store.BlobPath(orphan.ID())); ok {
		t.Fatal("an unreferenced old blob survived blob GC")
	}
}
