package isledb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

var gcSeeds = flag.Int("gc.seeds", 16, "seeds of TestGCSafety on the memory store (a quarter on file, an eighth on S3)")

// TestGCCorruptMarks: a pass sets damaged marks aside and goes on, and leaves marks of a
// newer version alone (the codec's side: internal/gc TestGCCorruptMarksDecode).
func TestGCCorruptMarks(t *testing.T) {
	good := gc.EncodeMarks(gc.Marks{"x": {Epoch: 1, Size: 5}})
	// A GC pass sets damaged marks aside and starts afresh (TestGCDamagedMarks has the
	// details)...
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
	if _, err := c.RunGC(ctx); err != nil {
		t.Fatalf("RunGC on corrupt marks = %v", err)
	}
	// ... but marks of a version it does not read, with a sound checksum, are a newer
	// release's: it leaves them alone, and deletes nothing.
	newer := bytes.Clone(good[:len(good)-4])
	newer[len(gc.MarksMagic)] = gc.MarksVersion + 1
	newer = binary.LittleEndian.AppendUint32(newer, crc32.Checksum(newer, crc32.MakeTable(crc32.Castagnoli)))
	if _, err := store.Write(ctx, manifest.GCMarksKey, newer); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunGC(ctx); !errors.Is(err, ErrCorruption) || !errors.Is(err, gc.ErrStateVersion) {
		t.Fatalf("RunGC on marks of a newer version = %v", err)
	}
	if data, _, err := store.Read(ctx, manifest.GCMarksKey); err != nil || !bytes.Equal(data, newer) {
		t.Fatalf("marks of a newer version were replaced: %v", err)
	}
}

// TestGCSafety runs random interleavings of writes and flushes, compactions (in-line, or by
// the background loop on some seeds), GC passes, reader refreshes and scans, orphan uploads
// and the passing of time, with GC on a fake clock that moves only when the test says so.
// A recording store logs every SST upload and deletion and every manifest entry, in the
// order the requests started and with the fake time; after every step the log is checked
// against the protocol's rules (gcRecorder.check): no SST is deleted while a manifest
// names it or less than a grace period after the entry that removed it, and no entry names
// an SST that is gone. A reader that refreshed less than a grace period ago scans without
// error. In the end, with everything quiet, GC deletes every SST the manifest does not
// name. Nothing depends on wall-clock timing.
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

// errGCInjected is the failure TestGCSafety injects.
var errGCInjected = errors.New("injected failure")

// gcClockBase is where fake clocks start.
var gcClockBase = time.Unix(1_700_000_000, 0)

func newGCFakeClock() *testutil.FakeClock { return testutil.NewFakeClock(gcClockBase) }

type gcEventKind int

const (
	gcPutSST gcEventKind = iota
	gcDeleteSST
	gcEntry
)

// gcEvent is one successful request that GC safety is about.
type gcEvent struct {
	order int64     // when the request started, among all recorded requests
	at    time.Time // the fake clock when it started
	kind  gcEventKind
	id    string                     // the SST (gcPutSST, gcDeleteSST)
	entry *manifest.ManifestLogEntry // gcEntry
}

// gcRecorder is a Backend that records SST uploads and deletions and manifest log entries
// (each stamped when its request started: an entry takes effect after that instant, so a
// GC pass that saw its effect took its own time later), and reports each SST's modification
// time on the fake clock, so that GC's orphan age runs on it too.
type gcRecorder struct {
	blobstore.Backend
	keyPrefix string
	clock     *testutil.FakeClock

	// beforePut, if set, may fail a write before it reaches the backend; afterSST, if set,
	// is called after each SST upload. Both are set before the recorder is used.
	beforePut func(key string, data []byte) error
	afterSST  func(id string)

	mu      sync.Mutex
	order   int64
	events  []gcEvent
	written map[string]time.Time // full key of an SST object → fake time of its last upload
	errs    []error
}

// newGCRecorder returns a Store over s's backend (same bucket and prefix) that records.
func newGCRecorder(s *blobstore.Store, clock *testutil.FakeClock) (*blobstore.Store, *gcRecorder) {
	r := &gcRecorder{Backend: s.Backend(), clock: clock, written: map[string]time.Time{}}
	if p := s.Prefix(); p != "" {
		r.keyPrefix = strings.TrimSuffix(p, "/") + "/"
	}
	return blobstore.NewWithBackend(r, s.BucketName(), s.Prefix()), r
}

func (r *gcRecorder) begin() (int64, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.order++
	return r.order, r.clock.Now()
}

// sstID returns the id of a full key "sst/<id>.sst".
func (r *gcRecorder) sstID(key string) (string, bool) {
	rel, ok := strings.CutPrefix(key, r.keyPrefix)
	if !ok {
		return "", false
	}
	rel, ok = strings.CutPrefix(rel, "sst/")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rel, ".sst")
}

func (r *gcRecorder) record(ev gcEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *gcRecorder) Put(ctx context.Context, key string, data []byte, opts blobstore.PutOptions) (blobstore.Attributes, error) {
	if r.beforePut != nil {
		if err := r.beforePut(strings.TrimPrefix(key, r.keyPrefix), data); err != nil {
			return blobstore.Attributes{}, err
		}
	}
	order, at := r.begin()
	attrs, err := r.Backend.Put(ctx, key, data, opts)
	if err != nil {
		return attrs, err
	}
	if id, ok := r.sstID(key); ok {
		r.mu.Lock()
		r.written[key] = at
		r.mu.Unlock()
		attrs.ModTime = at
		r.record(gcEvent{order: order, at: at, kind: gcPutSST, id: id})
		if r.afterSST != nil {
			r.afterSST(id)
		}
	} else if rel := strings.TrimPrefix(key, r.keyPrefix); strings.HasPrefix(rel, "manifest/log/") {
		e, derr := manifest.DecodeLogEntry(rel, data)
		if derr != nil {
			r.mu.Lock()
			r.errs = append(r.errs, derr)
			r.mu.Unlock()
		} else {
			r.record(gcEvent{order: order, at: at, kind: gcEntry, entry: e})
		}
	}
	return attrs, nil
}

func (r *gcRecorder) Delete(ctx context.Context, key string) error {
	order, at := r.begin()
	if err := r.Backend.Delete(ctx, key); err != nil {
		return err
	}
	if id, ok := r.sstID(key); ok {
		r.record(gcEvent{order: order, at: at, kind: gcDeleteSST, id: id})
	}
	return nil
}

func (r *gcRecorder) List(ctx context.Context, opts blobstore.ListOptions) (*blobstore.ListResult, error) {
	res, err := r.Backend.List(ctx, opts)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, o := range res.Objects {
		if t, ok := r.written[o.Key]; ok {
			res.Objects[i].ModTime = t
		}
	}
	return res, nil
}

// check replays the recorded events in the order their requests started, applying the
// manifest entries as replay does (an entry of a superseded fence is ignored), and returns
// the SSTs the manifest names at the end, or the first violation of GC safety:
//   - an SST is deleted while the manifest names it;
//   - an SST is deleted less than grace, on the fake clock, after the entry that removed
//     it from the manifest was written;
//   - an entry names an SST whose object is not in the bucket.
func (r *gcRecorder) check(grace time.Duration) (map[string]bool, error) {
	r.mu.Lock()
	events := slices.Clone(r.events)
	errs := slices.Clone(r.errs)
	r.mu.Unlock()
	if len(errs) > 0 {
		return nil, fmt.Errorf("undecodable manifest entry: %w", errs[0])
	}
	slices.SortFunc(events, func(a, b gcEvent) int { return cmp.Compare(a.order, b.order) })
	present := map[string]bool{}
	live := map[string]bool{}
	removedBy := map[string]gcEvent{}
	runs := map[uint32][]string{}
	fence := map[manifest.Role]uint64{}
	var lastEpoch uint64
	at := func(ev gcEvent) string { return fmt.Sprintf("request %d at +%v", ev.order, ev.at.Sub(gcClockBase)) }
	add := func(ev gcEvent, id string) error {
		if !present[id] {
			return fmt.Errorf("manifest entry #%d (%s) names sst %s, which is not in the bucket", ev.entry.Seq, at(ev), id)
		}
		live[id] = true
		return nil
	}
	remove := func(ev gcEvent, id string) {
		if live[id] {
			delete(live, id)
			removedBy[id] = ev
		}
	}
	for _, ev := range events {
		switch ev.kind {
		case gcPutSST:
			present[ev.id] = true
		case gcDeleteSST:
			if live[ev.id] {
				return nil, fmt.Errorf("sst %s deleted (%s) while the manifest names it", ev.id, at(ev))
			}
			if rm, ok := removedBy[ev.id]; ok && ev.at.Sub(rm.at) < grace {
				return nil, fmt.Errorf("sst %s deleted (%s) %v after manifest entry #%d (%s) removed it: grace is %v",
					ev.id, at(ev), ev.at.Sub(rm.at), rm.entry.Seq, at(rm), grace)
			}
			present[ev.id] = false
		case gcEntry:
			e := ev.entry
			if e.Kind == manifest.EntryClaimFence {
				if e.Epoch > lastEpoch {
					lastEpoch, fence[e.Role] = e.Epoch, e.Epoch
				}
				continue
			}
			if fence[e.Role] != e.Epoch {
				continue // replay ignores an entry of a superseded fence
			}
			switch e.Kind {
			case manifest.EntryAddSST:
				if err := add(ev, e.SST.ID); err != nil {
					return nil, err
				}
			case manifest.EntryRemoveSSTs:
				for _, id := range e.RemovedSSTs {
					remove(ev, id)
				}
			case manifest.EntryCompaction:
				p := e.Compaction
				for _, id := range slices.Concat(p.RemoveL0SSTs, p.DeleteSSTs) {
					remove(ev, id)
				}
				for _, run := range p.RemoveSortedRuns {
					for _, id := range runs[run] {
						remove(ev, id)
					}
					delete(runs, run)
				}
				if p.OutputRun != nil {
					var ids []string
					for _, s := range p.OutputRun.SSTs {
						if err := add(ev, s.ID); err != nil {
							return nil, err
						}
						ids = append(ids, s.ID)
					}
					runs[p.OutputRun.ID] = ids
				}
			}
		}
	}
	return live, nil
}

// deletions counts the SST deletions recorded.
func (r *gcRecorder) deletions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.kind == gcDeleteSST {
			n++
		}
	}
	return n
}

func runGCSafety(t *testing.T, bucket *blobstore.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 99))
	background := seed%3 == 0
	const grace = time.Minute // on the fake clock
	clock := newGCFakeClock()
	store, rec := newGCRecorder(bucket, clock)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (background %v): %s", seed, background, fmt.Sprintf(format, args...))
	}
	// Faults: a quarter of the compactions cannot write their manifest entry (the job
	// fails with its outputs uploaded and its inputs marked as about to be removed).
	var faultMu sync.Mutex
	faultRng := rand.New(rand.NewPCG(seed, 7))
	doomed := map[string]bool{} // compaction entries that never land, by content
	rec.beforePut = func(key string, data []byte) error {
		if !strings.HasPrefix(key, "manifest/log/") {
			return nil
		}
		e, err := manifest.DecodeLogEntry(key, data)
		if err != nil || e.Kind != manifest.EntryCompaction {
			return nil
		}
		faultMu.Lock()
		defer faultMu.Unlock()
		d, ok := doomed[string(data)]
		if !ok {
			d = faultRng.IntN(4) == 0
			doomed[string(data)] = d
		}
		if d {
			return errGCInjected
		}
		return nil
	}
	verify := func(step int, what string) map[string]bool {
		t.Helper()
		live, err := rec.check(grace)
		if err != nil {
			fail("step %d (%s): %v", step, what, err)
		}
		return live
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
	c, err := db.OpenCompactor(ctx, CompactorOptions{
		L0CompactionThreshold: 2 + rng.IntN(2), MinSources: 2, MaxSources: 3, TargetSSTSize: 2 << 10,
		BlockSize: 512, CheckInterval: 2 * time.Millisecond, GCGracePeriod: grace, GCInterval: time.Nanosecond,
		clock: clock.Now,
	})
	if err != nil {
		fail("%v", err)
	}
	// A slow flush: two grace periods pass between its upload and its manifest append,
	// with a GC pass after each (which must leave the current writer's flush alone).
	var slowFlush atomic.Bool
	var slowErr error
	rec.afterSST = func(id string) {
		if epoch, _, ok := base.ParseSSTID(id); ok && epoch == w.Fence().Epoch && slowFlush.CompareAndSwap(true, false) {
			for range 2 {
				clock.Advance(grace)
				if _, err := c.RunGC(ctx); err != nil && slowErr == nil {
					slowErr = err
				}
			}
		}
	}
	if background {
		c.Start()
		defer c.Stop()
	}
	r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir(), RangeReadMinSSTSize: 1, AllowUnverifiedRangeRead: true, DisableSSTBackgroundFill: true})
	if err != nil {
		fail("%v", err)
	}
	defer r.Close()
	refreshed := clock.Now()
	var orphans []string
	for step := range 60 {
		var what string
		switch op := rng.IntN(11); {
		case op < 4:
			what = "flush"
			for range 1 + rng.IntN(30) {
				_ = w.Put(fmt.Appendf(nil, "key-%03d", rng.IntN(300)), bytes.Repeat([]byte{'v'}, rng.IntN(100)))
			}
			if rng.IntN(5) == 0 {
				what = "slow flush"
				slowFlush.Store(true)
			}
			if err := w.Flush(ctx); err != nil {
				fail("step %d: Flush: %v", step, err)
			}
			if slowErr != nil {
				fail("step %d: RunGC during a flush: %v", step, slowErr)
			}
		case op < 6:
			what = "compaction"
			if !background {
				if err := c.RunCompaction(ctx); err != nil && !errors.Is(err, errGCInjected) {
					fail("step %d: RunCompaction: %v", step, err)
				}
			}
		case op < 7:
			what = "gc"
			if _, err := c.RunGC(ctx); err != nil {
				fail("step %d: RunGC: %v", step, err)
			}
		case op < 8:
			// A reader that refreshed less than a grace period ago (on the GC clock) reads
			// everything; one whose refresh is older refreshes first.
			what = "scan"
			if clock.Now().Sub(refreshed) >= grace || rng.IntN(2) == 0 {
				what = "refresh and scan"
				if err := r.Refresh(ctx); err != nil {
					fail("step %d: Refresh: %v", step, err)
				}
				refreshed = clock.Now()
			}
			if _, err := r.Scan(ctx, nil, nil); err != nil {
				fail("step %d: Scan %v after the reader's refresh: %v", step, clock.Now().Sub(refreshed), err)
			}
		case op < 9:
			what = "orphan"
			id := base.NewSSTID(0, uint64(step)) // a crashed flush of a writer long gone
			if _, err := store.Write(ctx, store.SSTPath(id), []byte("junk")); err != nil {
				fail("%v", err)
			}
			orphans = append(orphans, id)
		default:
			// Time passes in quarters of the grace period, give or take a nanosecond, so
			// that passes land exactly on its end and either side of it.
			d := time.Duration(1+rng.IntN(4))*grace/4 + time.Duration(rng.IntN(3)-1)
			what = fmt.Sprint("wait ", d)
			clock.Advance(d)
		}
		verify(step, what)
	}
	c.Stop()
	// Quiet: a pass marks every SST no manifest names (orphans included), and a pass a
	// grace period later deletes them all.
	if _, err := c.RunGC(ctx); err != nil {
		fail("final RunGC: %v", err)
	}
	clock.Advance(grace)
	if _, err := c.RunGC(ctx); err != nil {
		fail("final RunGC: %v", err)
	}
	live := verify(-1, "final gc")
	m, err := manifest.NewStore(store).Replay(ctx)
	if err != nil {
		fail("replay: %v", err)
	}
	ids := m.AllSSTIDs()
	slices.Sort(ids)
	if want := slices.Sorted(maps.Keys(live)); !slices.Equal(ids, want) {
		fail("the manifest names %v; the recorded entries name %v", ids, want)
	}
	objs, err := store.ListSSTFiles(ctx)
	if err != nil {
		fail("list: %v", err)
	}
	var left []string
	for _, o := range objs {
		left = append(left, strings.TrimSuffix(strings.TrimPrefix(o.Key, "sst/"), ".sst"))
	}
	slices.Sort(left)
	if !slices.Equal(left, ids) {
		fail("GC left %v for the live SSTs %v (orphans written: %d)", left, ids, len(orphans))
	}
	if rec.deletions() == 0 {
		fail("GC deleted nothing")
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
	clock := newGCFakeClock()
	store, _ := newGCRecorder(blobstore.NewMemory("db"), clock)
	db, _ := OpenDB(ctx, store, DBOptions{})
	defer db.Close()
	w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Put([]byte("a"), []byte("1"))
	_ = w.Flush(ctx)
	const grace = time.Minute
	c, err := db.OpenCompactor(ctx, CompactorOptions{GCGracePeriod: grace, GCInterval: time.Nanosecond, clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	inflight := base.NewSSTID(w.Fence().Epoch, 100)
	if _, err := store.Write(ctx, store.SSTPath(inflight), []byte("pending")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clock.Advance(2 * grace)
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
	// The first pass marks the orphan; it goes once a grace period has passed on GC's clock.
	for i, wait := range []time.Duration{0, grace - time.Nanosecond, time.Nanosecond} {
		clock.Advance(wait)
		if _, err := c.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
		ok, _ := store.Exists(ctx, store.SSTPath(inflight))
		if gone := i == 2; ok == gone {
			t.Fatalf("pass %d after the fence: orphan still there = %v", i, ok)
		}
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
		ckp, err := gc.DecodeCheckpoint(data)
		if err != nil || ckp.LastBlobGC == 0 || ckp.BlobsDeleted != uint64(st.BlobsDeleted) {
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
	clock := testutil.NewFakeClock(time.Now())
	c2.gc.SetClock(clock.Now)
	for range 3 {
		clock.Advance(time.Minute)
		if _, err := c2.RunGC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := store.Exists(ctx, store.BlobPath(orphan.ID())); !ok {
		t.Fatal("blob GC ran again before its interval")
	}
	if ckp, err := c2.gc.Checkpoint(ctx); err != nil || len(ckp.Blobs) != 0 {
		t.Fatalf("blob GC marked before its interval: %+v, %v", ckp, err)
	}
	o.BlobGC.Interval = time.Nanosecond
	c3 := open()
	c3.gc.SetClock(clock.Now)
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
