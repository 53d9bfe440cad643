package isledb_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
	"github.com/isledb/isledb/sstsign"
)

var compactionSeeds = flag.Int("compaction.seeds", 100, "seeds of the compaction model test on the memory store (a tenth on file; seeds 1, 2 and 5 on S3)")
var compactionSeed = flag.Uint64("compaction.seed", 0, "run the compaction model test with this one seed")

// TestCompactionModel runs random writes (puts, deletes, TTLs), flushes, compactions (on
// random steps, or by the background loop on some seeds) or retention cleanups (on their own
// seeds), and reads, against the engine and a Go map, comparing the reader's view with the
// model after every step. A second reader that is refreshed only every half grace period
// must keep reading its (older) view. A failure prints its seed; -compaction.seed=N
// replays it.
func TestCompactionModel(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		n := *compactionSeeds
		if b.Name == "file" {
			n = max(n/10, 5)
		}
		seeds := make([]uint64, n)
		for i := range seeds {
			seeds[i] = uint64(i + 1)
		}
		if b.Server {
			seeds = []uint64{1, 2, 5} // background merge, in-line merge, retention
		}
		if *compactionSeed != 0 {
			seeds = []uint64{*compactionSeed}
		}
		for _, seed := range seeds {
			t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
				runCompactionModel(t, b.Open(t), seed)
			})
		}
	})
}

// compactionModel is the expected state. In retention mode every key is written once, and
// a key is visible exactly while the SST it was flushed to is in the manifest.
type compactionModel struct {
	retention bool
	pending   map[string]*string // unflushed writes; nil: deleted
	committed map[string]string  // merge mode: what flushes made durable
	sstKeys   map[string]map[string]string
	known     map[string]bool // retention mode: SSTs already attributed
}

func (m *compactionModel) flushed(t *testing.T, ms *manifest.Store) {
	if !m.retention {
		for k, v := range m.pending {
			if v == nil {
				delete(m.committed, k)
			} else {
				m.committed[k] = *v
			}
		}
		clear(m.pending)
		return
	}
	if len(m.pending) == 0 {
		return
	}
	man, err := ms.Replay(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var fresh []string
	for _, s := range man.L0SSTs {
		if !m.known[s.ID] {
			fresh = append(fresh, s.ID)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("a flush made %d new SSTs, want 1", len(fresh))
	}
	kv := map[string]string{}
	for k, v := range m.pending {
		kv[k] = *v
	}
	m.known[fresh[0]] = true
	m.sstKeys[fresh[0]] = kv
	clear(m.pending)
}

// view returns what a reader at manifest man sees.
func (m *compactionModel) view(man *isledb.Manifest) map[string]string {
	if !m.retention {
		return maps.Clone(m.committed)
	}
	v := map[string]string{}
	for _, id := range man.AllSSTIDs() {
		maps.Copy(v, m.sstKeys[id])
	}
	return v
}

func runCompactionModel(t *testing.T, store *blobstore.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0xc0ffee))
	retention := seed%5 == 0
	background := seed%4 == 1
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (retention %v, background %v): %s (replay: go test -run TestCompactionModel -compaction.seed=%d)",
			seed, retention, background, fmt.Sprintf(format, args...), seed)
	}
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		fail("%v", err)
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.Compression = []string{"none", "snappy", "zstd", "lz4"}[rng.IntN(4)]
	if rng.IntN(2) == 0 {
		wopts.ValueStorage.BlobThreshold = 48
	}
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		fail("%v", err)
	}
	defer func() { _ = w.Close() }()
	ropts := isledb.ReaderOpenOptions{CacheDir: t.TempDir(), BlockCacheSize: 1 << 20}
	switch rng.IntN(3) {
	case 0: // read every SST by range
		ropts.RangeReadMinSSTSize, ropts.AllowUnverifiedRangeRead, ropts.DisableSSTBackgroundFill = 1, true, true
	case 1: // by range, then from the disk cache once filled in the background
		ropts.RangeReadMinSSTSize, ropts.AllowUnverifiedRangeRead = 1, true
	}
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		fail("%v", err)
	}
	defer r.Close()
	// The old reader reads every block from the bucket (no caches but the open SSTs).
	old, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir(), RangeReadMinSSTSize: 1, AllowUnverifiedRangeRead: true, DisableSSTBackgroundFill: true})
	if err != nil {
		fail("%v", err)
	}
	defer old.Close()

	grace := []time.Duration{30 * time.Millisecond, 300 * time.Millisecond, 5 * time.Second}[rng.IntN(3)]
	var jobs, jobErrs atomic.Int64
	var stopping atomic.Bool // errors of a job canceled by Stop do not count
	var run func() error
	var stop func()
	if retention {
		o := isledb.RetentionCompactorOptions{
			Mode:            []isledb.RetentionCompactorMode{isledb.CompactByAge, isledb.CompactByTimeWindow}[rng.IntN(2)],
			RetentionPeriod: time.Duration(1+rng.IntN(20)) * time.Millisecond,
			RetentionCount:  rng.IntN(30),
			SegmentDuration: time.Duration(1+rng.IntN(10)) * time.Millisecond,
			CheckInterval:   time.Duration(2+rng.IntN(8)) * time.Millisecond,
			GCGracePeriod:   grace,
			GCInterval:      time.Nanosecond,
			OnCleanup:       func(isledb.CleanupStats) { jobs.Add(1) },
			OnCleanupError: func(err error) {
				if !stopping.Load() {
					t.Logf("cleanup: %v", err)
					jobErrs.Add(1)
				}
			},
		}
		rc, err := db.OpenRetentionCompactor(ctx, o)
		if err != nil {
			fail("%v", err)
		}
		run, stop = func() error { return rc.RunCleanup(ctx) }, func() { stopping.Store(true); rc.Stop(); stopping.Store(false) }
		if background {
			rc.Start()
		}
	} else {
		o := isledb.CompactorOptions{
			L0CompactionThreshold: 2 + rng.IntN(3),
			MinSources:            2 + rng.IntN(2),
			SizeThreshold:         1 + rng.IntN(8),
			BlockSize:             256 << rng.IntN(3),
			Compression:           []string{"none", "snappy", "zstd", "lz4"}[rng.IntN(4)],
			TargetSSTSize:         int64(1024 << rng.IntN(4)),
			DisableSSTChecksum:    rng.IntN(2) == 0,
			CheckInterval:         time.Duration(2+rng.IntN(8)) * time.Millisecond,
			GCGracePeriod:         grace,
			GCInterval:            time.Nanosecond,
		}
		o.MaxSources = o.MinSources + rng.IntN(4)
		if rng.IntN(3) > 0 { // the rest keep the nil callbacks
			o.OnCompactionStart = func(isledb.CompactionJob) {}
			o.OnCompactionEnd = func(j isledb.CompactionJob, err error) {
				jobs.Add(1)
				if err != nil && !stopping.Load() {
					t.Logf("compaction: %v", err)
					jobErrs.Add(1)
				}
			}
		}
		c, err := db.OpenCompactor(ctx, o)
		if err != nil {
			fail("%v", err)
		}
		run, stop = func() error { return c.RunCompaction(ctx) }, func() { stopping.Store(true); c.Stop(); stopping.Store(false) }
		if background {
			c.Start()
		}
	}
	defer stop()
	ms := manifest.NewStore(store)

	m := &compactionModel{retention: retention, pending: map[string]*string{}, committed: map[string]string{},
		sstKeys: map[string]map[string]string{}, known: map[string]bool{}}
	oldView, oldAt := map[string]string{}, time.Now()
	next := 0
	keySpace := 20 + rng.IntN(200)
	key := func() string {
		if retention {
			next++
			return fmt.Sprintf("key-%05d", next)
		}
		return fmt.Sprintf("key-%04d", rng.IntN(keySpace))
	}
	flush := func(step int) {
		if err := w.Flush(ctx); err != nil {
			fail("step %d: Flush: %v", step, err)
		}
		m.flushed(t, ms)
	}
	steps := 40 + rng.IntN(50)
	for step := range steps {
		switch op := rng.IntN(100); {
		case op < 40:
			k := key()
			v := fmt.Sprintf("v%d-%d-%s", seed, step, bytes.Repeat([]byte("x"), rng.IntN(80)))
			if err := w.Put([]byte(k), []byte(v)); err != nil {
				fail("step %d: Put: %v", step, err)
			}
			m.pending[k] = &v
		case op < 48 && !retention:
			k := key()
			if err := w.Delete([]byte(k)); err != nil {
				fail("step %d: Delete: %v", step, err)
			}
			m.pending[k] = nil
		case op < 52 && !retention:
			k := key()
			if err := w.PutWithTTL([]byte(k), []byte("ephemeral"), time.Nanosecond); err != nil {
				fail("step %d: PutWithTTL: %v", step, err)
			}
			m.pending[k] = nil
		case op < 55 && !retention:
			k, v := key(), fmt.Sprint("long-lived-", step)
			if err := w.PutWithTTL([]byte(k), []byte(v), time.Hour); err != nil {
				fail("step %d: PutWithTTL: %v", step, err)
			}
			m.pending[k] = &v
		case op < 57 && !retention:
			k := key()
			if err := w.DeleteWithTTL([]byte(k), time.Hour); err != nil {
				fail("step %d: DeleteWithTTL: %v", step, err)
			}
			m.pending[k] = nil
		case op < 72:
			flush(step)
		case op < 85:
			if err := run(); err != nil {
				fail("step %d: compaction: %v", step, err)
			}
		default:
			// Reopen the writer now and then: it resumes after the manifest's sequence numbers.
			if rng.IntN(4) == 0 {
				if err := w.Close(); err != nil {
					fail("step %d: Close: %v", step, err)
				}
				m.flushed(t, ms)
				if w, err = db.OpenWriter(ctx, wopts); err != nil {
					fail("step %d: reopen writer: %v", step, err)
				}
			}
		}
		// The fresh reader sees the model.
		if err := r.Refresh(ctx); err != nil {
			fail("step %d: Refresh: %v", step, err)
		}
		want := m.view(r.Manifest())
		got, err := r.Scan(ctx, nil, nil)
		if err != nil {
			fail("step %d: Scan: %v", step, err)
		}
		if w := modelScan(want, "", "\xff", 0); !sameKVs(got, w) {
			fail("step %d: Scan = %s\nwant %s", step, fmtKVs(got), fmtKVs(w))
		}
		if rng.IntN(4) == 0 && len(want) > 0 {
			k := slices.Sorted(maps.Keys(want))[rng.IntN(len(want))]
			if v, ok, err := r.Get(ctx, []byte(k)); err != nil || !ok || string(v) != want[k] {
				fail("step %d: Get(%s) = %q, %v, %v; want %q", step, k, v, ok, err, want[k])
			}
		}
		// The old reader's manifest is at most half a grace period old: its SSTs are
		// still in the bucket.
		if time.Since(oldAt) >= grace/2 {
			if err := old.Refresh(ctx); err != nil {
				fail("step %d: old reader Refresh: %v", step, err)
			}
			oldAt, oldView = time.Now(), m.view(old.Manifest())
		}
		if rng.IntN(3) == 0 {
			got, err := old.Scan(ctx, nil, nil)
			if err != nil {
				fail("step %d: old reader (refreshed %v ago, grace %v): Scan: %v", step, time.Since(oldAt), grace, err)
			}
			if w := modelScan(oldView, "", "\xff", 0); !sameKVs(got, w) && time.Since(oldAt) < grace/2 {
				fail("step %d: old reader Scan = %s\nwant %s", step, fmtKVs(got), fmtKVs(w))
			}
		}
	}
	stop()
	if err := run(); err != nil {
		fail("final compaction: %v", err)
	}
	flush(steps)
	if err := r.Refresh(ctx); err != nil {
		fail("final Refresh: %v", err)
	}
	checkManifestObjects(t, store, r)
	got, err := r.Scan(ctx, nil, nil)
	if err != nil {
		fail("final Scan: %v", err)
	}
	if want := modelScan(m.view(r.Manifest()), "", "\xff", 0); !sameKVs(got, want) {
		fail("final Scan = %s\nwant %s", fmtKVs(got), fmtKVs(want))
	}
	if n := jobErrs.Load(); n > 0 {
		fail("%d compaction jobs failed", n)
	}
}

func TestCompactorOptions(t *testing.T) {
	d := isledb.DefaultCompactorOptions()
	if d.L0CompactionThreshold != 8 || d.MinSources != 4 || d.MaxSources != 8 || d.SizeThreshold != 4 ||
		d.TargetSSTSize != 64<<20 || !d.ValidateSSTChecksum || d.CheckInterval != 5*time.Second ||
		d.GCGracePeriod != 10*time.Minute || d.OnCompactionStart == nil || d.OnCompactionEnd == nil || d.Validate() != nil {
		t.Fatalf("defaults: %+v", d)
	}
	bad := isledb.CompactorOptions{MinSources: 5, MaxSources: 3, BlockSize: 10, Compression: "gzip", TargetSSTSize: 10, GCGracePeriod: -1}
	bad.EnsureDefaults()
	err := bad.Validate()
	if !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("Validate = %v", err)
	}
	for _, s := range []string{"MinSources", "BlockSize", "Compression", "TargetSSTSize", "GCGracePeriod"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Validate does not report %s: %v", s, err)
		}
	}
	r := isledb.DefaultRetentionCompactorOptions()
	if r.Mode != isledb.CompactByAge || r.RetentionPeriod != 7*24*time.Hour || r.RetentionCount != 10 ||
		r.CheckInterval != time.Minute || r.SegmentDuration != time.Hour || r.OnCleanup == nil || r.Validate() != nil {
		t.Fatalf("retention defaults: %+v", r)
	}
	if err := (isledb.RetentionCompactorOptions{Mode: 7, RetentionCount: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "Mode") || !strings.Contains(err.Error(), "RetentionCount") {
		t.Fatalf("retention Validate = %v", err)
	}
}

// TestCompactorBasics: L0 becomes a run, runs merge, reads are unchanged, the callbacks see
// the jobs, replaced SSTs are deleted after the grace period, and DB.Close closes the
// compactor.
func TestCompactorBasics(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, w := openAll(t, store)
		var mu sync.Mutex
		var jobs []isledb.CompactionJob
		o := compactorOptions()
		o.OnCompactionEnd = func(j isledb.CompactionJob, err error) {
			if err != nil {
				t.Errorf("job %v: %v", j.Type, err)
			}
			mu.Lock()
			jobs = append(jobs, j)
			mu.Unlock()
		}
		c, err := db.OpenCompactor(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		var want []isledb.KV
		for gen := range 8 {
			fill(t, w, gen, 200)
			if gen%4 == 3 {
				want = scanAll(t, store)
				if err := c.RunCompaction(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		mu.Lock()
		if len(jobs) < 3 || jobs[0].Type != isledb.CompactionL0Flush || jobs[0].OutputRun == nil || len(jobs[0].InputSSTs) != 4 {
			t.Fatalf("jobs: %+v", jobs)
		}
		var merged bool
		for _, j := range jobs {
			merged = merged || (j.Type == isledb.CompactionConsecutiveMerge && len(j.InputRuns) >= 2)
		}
		mu.Unlock()
		if !merged {
			t.Fatal("no run merge")
		}
		m, _ := manifest.NewStore(store).Replay(ctx)
		if m.L0SSTCount() != 0 || m.SortedRunCount() != 1 || len(m.SortedRuns[0].SSTs) < 2 {
			t.Fatalf("after compaction: %d L0, %d runs", m.L0SSTCount(), m.SortedRunCount())
		}
		for _, s := range m.SortedRuns[0].SSTs {
			if s.Level != 1 || s.Epoch != c.FenceToken().Epoch || s.Size > 3*o.TargetSSTSize {
				t.Fatalf("output %+v", s)
			}
		}
		if got := scanAll(t, store); !sameKVs(got, want) {
			t.Fatalf("after compaction: %d pairs, want %d", len(got), len(want))
		}
		if len(sstObjects(t, store)) == len(liveSSTs(t, store)) {
			t.Fatal("inputs deleted before the grace period")
		}
		waitForGC(t, store, c.RunGC)
		st := c.Stats()
		if st.Compactions < 3 || st.GC.SSTsDeleted < 8 || st.OutputBytes == 0 || !strings.Contains(st.String(), "compactions") {
			t.Fatalf("stats: %v", st)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.RunCompaction(ctx); !errors.Is(err, isledb.ErrClosed) {
			t.Fatalf("RunCompaction after DB.Close = %v", err)
		}
	})
}

// TestCompactionDropsTombstones: at the bottom, deletes and expired entries disappear; above
// older data they stay.
func TestCompactionDropsTombstones(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, w := openAll(t, store)
	o := compactorOptions()
	o.L0CompactionThreshold = 2
	o.MinSources = 4 // no run merges
	c, err := db.OpenCompactor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, w, 0, 100)
	fill(t, w, 1, 100)
	if err := c.RunCompaction(ctx); err != nil { // the bottom run
		t.Fatal(err)
	}
	for i := range 50 {
		_ = w.Delete(fmt.Appendf(nil, "key-%05d", i*7%1000))
	}
	_ = w.PutWithTTL([]byte("ttl"), []byte("x"), time.Nanosecond)
	_ = w.Flush(ctx)
	fill(t, w, 2, 1) // key-00000 again, then a second L0 SST
	if err := c.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ := manifest.NewStore(store).Replay(ctx)
	var tombstones uint64
	for _, s := range m.SortedRuns[0].SSTs {
		tombstones += s.TombstoneCount
	}
	if tombstones != 49 {
		t.Fatalf("the newer run holds %d tombstones, want 49 (they hide data below)", tombstones)
	}
	o.MinSources = 2
	c2, err := db.OpenCompactor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ = manifest.NewStore(store).Replay(ctx)
	var entries uint64
	for _, s := range m.SortedRuns[0].SSTs {
		entries += s.EntryCount
		tombstones += s.TombstoneCount
	}
	if m.SortedRunCount() != 1 || entries != 51 {
		t.Fatalf("after the bottom merge: %d runs, %d entries, want 1 and 51 (100 keys - 49 deleted, the ttl entry dropped, the newest kept)", m.SortedRunCount(), entries)
	}
	if got := scanAll(t, store); len(got) != 51 {
		t.Fatalf("scan: %d pairs", len(got))
	}
}

// TestCompactorFencing: a second compactor fences the first, which then publishes nothing;
// a compactor fenced in the middle of a job deletes its outputs; a retention compactor
// fences a merge compactor.
func TestCompactorFencing(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, w := openAll(t, store)
	o1 := compactorOptions()
	o1.OwnerID = "compactor-one"
	c1, err := db.OpenCompactor(ctx, o1)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := manifest.NewStore(store).Replay(ctx); c1.FenceToken().Owner != "compactor-one" || m.CompactorFence.Owner != "compactor-one" {
		t.Fatalf("fence owner %q", c1.FenceToken().Owner)
	}
	for gen := range 4 {
		fill(t, w, gen, 50)
	}
	c2, err := db.OpenCompactor(ctx, compactorOptions())
	if err != nil {
		t.Fatal(err)
	}
	if c2.FenceToken().Epoch <= c1.FenceToken().Epoch {
		t.Fatal("the newer compactor's epoch is not larger")
	}
	if err := c1.RunCompaction(ctx); !errors.Is(err, manifest.ErrFenced) || !c1.IsFenced() {
		t.Fatalf("fenced RunCompaction = %v, IsFenced %v", err, c1.IsFenced())
	}
	if _, err := c1.RunGC(ctx); !errors.Is(err, manifest.ErrFenced) {
		t.Fatalf("fenced RunGC = %v", err)
	}
	if m, _ := manifest.NewStore(store).Replay(ctx); m.L0SSTCount() != 4 {
		t.Fatal("the fenced compactor changed the manifest")
	}

	// Fenced in the middle of a job: c2 is replaced while it merges.
	o := compactorOptions()
	var c3 *isledb.Compactor
	o.OnCompactionStart = func(isledb.CompactionJob) {
		if c3 == nil {
			if c3, err = db.OpenCompactor(ctx, compactorOptions()); err != nil {
				t.Error(err)
			}
		}
	}
	var endErr error
	o.OnCompactionEnd = func(_ isledb.CompactionJob, err error) { endErr = err }
	c2b, err := db.OpenCompactor(ctx, o) // fences c2
	if err != nil {
		t.Fatal(err)
	}
	before := sstObjects(t, store)
	if err := c2b.RunCompaction(ctx); !errors.Is(err, manifest.ErrFenced) || !errors.Is(endErr, manifest.ErrFenced) || !c2b.IsFenced() {
		t.Fatalf("compactor fenced mid-job: RunCompaction %v, OnCompactionEnd %v", err, endErr)
	}
	if after := sstObjects(t, store); !slices.Equal(before, after) {
		t.Fatalf("the fenced job left objects: before %v, after %v", before, after)
	}
	if err := c3.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := manifest.NewStore(store).Replay(ctx); m.L0SSTCount() != 0 {
		t.Fatal("the current compactor did not compact")
	}
	rc, err := db.OpenRetentionCompactor(ctx, isledb.RetentionCompactorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c3.Refresh(ctx); !errors.Is(err, manifest.ErrFenced) || !c3.IsFenced() {
		t.Fatalf("merge compactor after a retention compactor claimed: %v", err)
	}
	if err := rc.RunCleanup(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCompactorConcurrentWriter: the writer flushes while the background compactor runs;
// every flush succeeds and every write is readable.
func TestCompactorConcurrentWriter(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, w := openAll(t, store)
		o := compactorOptions()
		o.L0CompactionThreshold = 2
		// The first job is held at its start until the writer has published two more
		// flushes, so its commit must race the writer's appends: the overlap the test is
		// about is forced by the protocol, not left to scheduling.
		started := make(chan struct{})
		proceed := make(chan struct{})
		var startOnce, proceedOnce sync.Once
		release := func() { proceedOnce.Do(func() { close(proceed) }) }
		defer release()
		var first atomic.Bool
		var jobs atomic.Int64
		var stopping atomic.Bool // a job canceled by Stop fails, as it should
		o.OnCompactionStart = func(isledb.CompactionJob) {
			if first.CompareAndSwap(false, true) {
				startOnce.Do(func() { close(started) })
				<-proceed
			}
		}
		o.OnCompactionEnd = func(_ isledb.CompactionJob, err error) {
			if err != nil && !stopping.Load() {
				t.Errorf("compaction: %v", err)
			}
			jobs.Add(1)
		}
		c, err := db.OpenCompactor(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		defer func() { stopping.Store(true); release(); c.Stop() }()
		want := map[string]string{}
		flushes := 40
		if b.Server {
			flushes = 15
		}
		flush := func(i int) {
			for j := range 20 {
				k, v := fmt.Sprintf("key-%03d", (i*13+j*7)%300), fmt.Sprintf("v-%d-%d", i, j)
				if err := w.Put([]byte(k), []byte(v)); err != nil {
					t.Fatal(err)
				}
				want[k] = v
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatalf("flush %d: %v", i, err)
			}
		}
		afterStart := -1 // flushes published while the first job was held
		for i := range flushes {
			flush(i)
			if afterStart < 0 {
				select {
				case <-started:
					afterStart = 0
				default:
				}
			} else if afterStart++; afterStart == 2 {
				release()
			}
		}
		if afterStart < 2 {
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatalf("no compaction started after %d flushes", flushes)
			}
			for i := flushes; afterStart < 2; i++ {
				flush(i)
				afterStart = max(afterStart, 0) + 1
			}
			release()
		}
		// Wait for the compactor to catch up: the held job done and L0 below its threshold.
		ms := manifest.NewStore(store)
		deadline := time.Now().Add(30 * time.Second)
		for {
			m, err := ms.Replay(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.L0SSTCount() < o.L0CompactionThreshold && jobs.Load() > 0 {
				break
			}
			if time.Now().After(deadline) {
				var stacks strings.Builder
				_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
				t.Fatalf("the compactor did not catch up: %d L0 SSTs; stats %v\n%s", m.L0SSTCount(), c.Stats(), stacks.String())
			}
			time.Sleep(time.Millisecond)
		}
		stopping.Store(true)
		c.Stop()
		if got := scanAll(t, store); !sameKVs(got, modelScan(want, "", "\xff", 0)) {
			t.Fatalf("scan: %s", fmtKVs(got))
		}
	})
}

// TestCompactionFaults fails the k-th request of a compaction cycle, for every k until a
// cycle needs no more, with a permanent failure and, separately, with a lost reply. After
// each: nothing is lost (the view is unchanged and the manifest names only existing
// objects), a second cycle succeeds, and GC removes every orphan the failure left.
func TestCompactionFaults(t *testing.T) {
	for _, mode := range []string{"fail", "lose-reply"} {
		t.Run(mode, func(t *testing.T) {
			for k := int64(0); ; k++ {
				if !runCompactionFault(t, mode, k) {
					if k < 10 {
						t.Fatalf("a compaction cycle took only %d requests", k)
					}
					t.Logf("%s: a cycle takes %d requests", mode, k)
					return
				}
			}
		})
	}
}

func runCompactionFault(t *testing.T, mode string, k int64) bool {
	ctx := context.Background()
	store, fb := faultstore.NewMemoryStore("db")
	db, w := openAll(t, store)
	o := compactorOptions()
	o.GCGracePeriod = time.Millisecond
	c, err := db.OpenCompactor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for gen := range 4 {
		fill(t, w, gen, 60)
	}
	if err := c.RunCompaction(ctx); err != nil { // one run
		t.Fatal(err)
	}
	for gen := 4; gen < 8; gen++ {
		fill(t, w, gen, 60)
	}
	want := scanAll(t, store)
	start := fb.Requests()
	var hit atomic.Bool
	match := func(r faultstore.Request) bool {
		if r.Seq == start+k {
			hit.Store(true)
			return true
		}
		return false
	}
	if mode == "fail" {
		fb.FailPermanentlyIf(match, 1)
	} else {
		fb.LoseReply(match, 1)
	}
	first := c.RunCompaction(ctx)
	fb.Clear()
	if !hit.Load() {
		if first != nil {
			t.Fatalf("k=%d: RunCompaction failed without a fault: %v", k, first)
		}
		return false
	}
	if got := scanAll(t, store); !sameKVs(got, want) {
		t.Fatalf("k=%d (%s, %v): view changed after the fault", k, mode, first)
	}
	if err := c.RunCompaction(ctx); err != nil {
		t.Fatalf("k=%d (%s): RunCompaction after the fault: %v (first: %v)", k, mode, err, first)
	}
	if got := scanAll(t, store); !sameKVs(got, want) {
		t.Fatalf("k=%d (%s): view changed after the second cycle", k, mode)
	}
	if m, _ := manifest.NewStore(store).Replay(ctx); m.L0SSTCount() != 0 || m.SortedRunCount() != 1 {
		t.Fatalf("k=%d: after two cycles: %d L0 SSTs, %d runs", k, m.L0SSTCount(), m.SortedRunCount())
	}
	waitForGC(t, store, c.RunGC)
	return true
}

// TestCompactorSignatures: with a verifier the compactor refuses unsigned or wrongly signed
// inputs, and with a signer its outputs pass a verifying reader.
func TestCompactorSignatures(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	_, priv, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	signer := sstsign.NewEd25519Signer(priv, "k1")
	verifier := sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"k1": priv.Public().(ed25519.PublicKey)})
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval, wopts.Signer = -1, signer
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	for gen := range 4 {
		fill(t, w, gen, 50)
	}
	o := compactorOptions()
	o.SSTHashVerifier = sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"k1": other.Public().(ed25519.PublicKey)})
	bad, err := db.OpenCompactor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.RunCompaction(ctx); err == nil {
		t.Fatal("inputs signed with another key were compacted")
	}
	o.SSTHashVerifier, o.Signer = verifier, signer
	c, err := db.OpenCompactor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir(), SSTHashVerifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Manifest()
	if m.L0SSTCount() != 0 || m.SortedRuns[0].SSTs[0].Signature == nil {
		t.Fatalf("outputs not signed: %+v", m.SortedRuns)
	}
	if kvs, err := r.Scan(ctx, nil, nil); err != nil || len(kvs) != 50 {
		t.Fatalf("verified scan: %d pairs, %v", len(kvs), err)
	}
}

// TestCompactorGCMarkStorage: the GC state goes where CompactorOptions.GCMarkStorage says.
func TestCompactorGCMarkStorage(t *testing.T) {
	ctx := context.Background()
	store, elsewhere := blobstore.NewMemory("db"), blobstore.NewMemory("gc")
	db, w := openAll(t, store)
	o := compactorOptions()
	o.GCMarkStorage = manifest.NewBlobGCMarkStorage(elsewhere)
	c, err := db.OpenCompactor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for gen := range 4 {
		fill(t, w, gen, 10)
	}
	if err := c.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := elsewhere.Exists(ctx, manifest.GCMarksKey); !ok {
		t.Fatal("no marks in the configured GC mark storage")
	}
	if ok, _ := store.Exists(ctx, manifest.GCMarksKey); ok {
		t.Fatal("marks in the DB's bucket")
	}
}
