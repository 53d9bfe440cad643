package isledb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/compaction"
	"github.com/isledb/isledb/internal/gc"
	"github.com/isledb/isledb/manifest"
)

// maxL0Inputs is the least cap on the L0 SSTs of one job (the cap is the larger of it and
// L0CompactionThreshold): each L0 input is open during the merge.
const maxL0Inputs = 32

// maxJobsPerCycle bounds the jobs of one RunCompaction.
const maxJobsPerCycle = 16

// CompactionJobType says what a compaction job merges.
type CompactionJobType int

const (
	// CompactionL0Flush merges the oldest L0 SSTs into a new sorted run.
	CompactionL0Flush CompactionJobType = iota + 1
	// CompactionConsecutiveMerge merges consecutive sorted runs into one.
	CompactionConsecutiveMerge
)

// String returns "l0-flush" or "consecutive-merge".
func (t CompactionJobType) String() string {
	switch t {
	case CompactionL0Flush:
		return "l0-flush"
	case CompactionConsecutiveMerge:
		return "consecutive-merge"
	}
	return fmt.Sprintf("CompactionJobType(%d)", int(t))
}

// CompactionJob describes one compaction, as the callbacks see it.
type CompactionJob struct {
	Type CompactionJobType
	// InputSSTs are the ids of every SST merged (L0 SSTs, or the runs' SSTs).
	InputSSTs []string
	// InputRuns are the ids of the runs merged (none for CompactionL0Flush).
	InputRuns []uint32
	// OutputRun is the run published, set in OnCompactionEnd when the job succeeded and
	// produced data (nil if every entry was dropped).
	OutputRun *SortedRun
}

// CompactorStats counts a compactor's work since it opened.
type CompactorStats struct {
	// Compactions and Failures count the jobs that were published and those that failed.
	Compactions, Failures int
	// InputSSTs, InputBytes, OutputSSTs, OutputBytes: what published jobs consumed and made;
	// InputRawBytes is the uncompressed size of the inputs' keys and values.
	InputSSTs     int
	InputBytes    int64
	InputRawBytes int64
	OutputSSTs    int
	OutputBytes   int64
	// EntriesWritten and EntriesDropped (tombstones and expired entries dropped at the
	// bottom; shadowed versions are not counted).
	EntriesWritten, EntriesDropped uint64
	// ReadRequests, BytesRead and WriteRequests count the object-store requests of merges
	// (published or not).
	ReadRequests  int64
	BytesRead     int64
	WriteRequests int64
	// Busy is the time spent merging.
	Busy time.Duration
	// GC counts garbage collection.
	GC GCStats
}

// String formats the stats on one line.
func (s CompactorStats) String() string {
	return fmt.Sprintf("%d compactions (%d failed): %d ssts (%d B) -> %d ssts (%d B), %d entries written, %d dropped; %d reads (%d B), %d writes; busy %v; gc: %v",
		s.Compactions, s.Failures, s.InputSSTs, s.InputBytes, s.OutputSSTs, s.OutputBytes, s.EntriesWritten, s.EntriesDropped,
		s.ReadRequests, s.BytesRead, s.WriteRequests, s.Busy.Round(time.Millisecond), s.GC)
}

// compactorCore is what the merge and the retention compactor share: the compactor fence,
// the manifest they act on, the garbage collector, and the background loop.
type compactorCore struct {
	db     *DB
	store  *blobstore.Store
	ms     *manifest.Store
	fence  *manifest.FenceToken
	gc     *gc.Collector
	logger *slog.Logger
	fenced atomic.Bool
	loop   bgLoop

	runMu  sync.Mutex // one cycle at a time; guards m and closed
	m      *manifest.Manifest
	closed bool
	cur    atomic.Pointer[manifest.Manifest] // m, for readers that must not wait for a cycle
}

// setMLocked makes m the compactor's manifest.
func (c *compactorCore) setMLocked(m *manifest.Manifest) {
	c.m = m
	c.cur.Store(m)
}

// openCore claims the compactor fence and replays the manifest.
func (db *DB) openCore(ctx context.Context, owner string, marks manifest.GCMarkStorage, gco gc.Options, logger *slog.Logger) (*compactorCore, error) {
	if gco.Blob.Enabled && marks != nil && !sameMarkStorage(marks, db.gcmarks) {
		// Writers keep their blobs from blob GC through the DB's storage: a compactor on
		// another one would collect blobs without them.
		return nil, fmt.Errorf("%w: with BlobGC enabled, GCMarkStorage must be the DB's (DBOptions.GCMarkStorage), which writers use", ErrInvalidOptions)
	}
	ms := db.newManifestStore()
	fence, err := ms.ClaimCompactor(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("claim the compactor fence: %w", err)
	}
	m, err := ms.Replay(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay manifest: %w", err)
	}
	if marks == nil {
		marks = db.gcmarks
	}
	c := &compactorCore{db: db, store: db.store, ms: ms, fence: fence, logger: logger}
	c.setMLocked(m)
	c.gc = gc.New(gc.Config{
		Options: gco, Store: db.store, Marks: marks, Epoch: fence.Epoch, Latest: c.refreshLocked,
		Logger: logger,
	})
	return c, nil
}

// refreshLocked moves to the newest manifest; it fails with ErrFenced if the compactor
// fence is no longer ours.
func (c *compactorCore) refreshLocked(ctx context.Context) (*manifest.Manifest, error) {
	if c.fenced.Load() {
		return nil, fmt.Errorf("isledb: compactor epoch %d: %w", c.fence.Epoch, manifest.ErrFenced)
	}
	m, err := c.ms.ReplayFrom(ctx, c.m)
	if err != nil {
		return nil, fmt.Errorf("isledb: compactor: replay manifest: %w", err)
	}
	c.setMLocked(m)
	if f := m.CompactorFence; f == nil || f.Epoch != c.fence.Epoch {
		c.fenced.Store(true)
		by := "nobody"
		if f != nil {
			by = fmt.Sprintf("epoch %d (owner %q)", f.Epoch, f.Owner)
		}
		return nil, fmt.Errorf("isledb: compactor epoch %d: %w by %s", c.fence.Epoch, manifest.ErrFenced, by)
	}
	return m, nil
}

// checkUsableLocked fails if the compactor is closed or fenced.
func (c *compactorCore) checkUsableLocked() error {
	if c.closed {
		return ErrClosed
	}
	if c.fenced.Load() {
		return fmt.Errorf("isledb: compactor epoch %d: %w", c.fence.Epoch, manifest.ErrFenced)
	}
	return nil
}

// noteAppendErr records a fence loss reported by an append.
func (c *compactorCore) noteAppendErr(err error) {
	if errors.Is(err, manifest.ErrFenced) {
		c.fenced.Store(true)
	}
}

// discard deletes outputs that were never published (best effort: GC deletes what is left).
func (c *compactorCore) discard(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.store.SSTPath(id)
	}
	_ = c.store.BatchDelete(ctx, keys)
}

func (c *compactorCore) refresh(ctx context.Context) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.closed {
		return ErrClosed
	}
	_, err := c.refreshLocked(ctx)
	return err
}

func (c *compactorCore) runGC(ctx context.Context) (GCStats, error) {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if err := c.checkUsableLocked(); err != nil {
		return GCStats{}, err
	}
	return runGCPass(ctx, c.gc)
}

// start starts the background loop running cycle every interval, unless the compactor is
// closed. It ends when the compactor is fenced or closed.
func (c *compactorCore) start(interval time.Duration, cycle func(context.Context) error, what string) {
	c.runMu.Lock()
	closed := c.closed
	c.runMu.Unlock()
	if closed {
		return
	}
	c.loop.start(interval, func(ctx context.Context) bool {
		err := cycle(ctx)
		if err != nil && ctx.Err() == nil {
			c.logger.Warn("isledb: "+what+" failed", "err", err)
		}
		return !c.fenced.Load() && !errors.Is(err, ErrClosed)
	})
}

// close stops the loop, waits for a cycle in progress, and unregisters from the DB.
func (c *compactorCore) close(self closer) {
	c.loop.stop()
	c.runMu.Lock()
	c.closed = true
	c.runMu.Unlock()
	c.db.unregister(self)
}

// bgLoop runs a function periodically on its own goroutine until stopped.
type bgLoop struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs tick at once and then every interval, until stop or until tick returns false.
// Starting a running loop does nothing.
func (l *bgLoop) start(interval time.Duration, tick func(ctx context.Context) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.cancel, l.done = cancel, done
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for tick(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// stop stops the loop and waits for it.
func (l *bgLoop) stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel, l.done = nil, nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Compactor merges L0 SSTs into sorted runs and merges consecutive runs of similar size,
// and deletes what it replaced once GCGracePeriod has passed (docs/compaction.md). It holds the
// compactor fence: opening a Compactor or a RetentionCompactor fences the previous
// holder, so the two are alternatives for one prefix, never run together. Compactions never
// block the writer: both append to the manifest log, and a compaction whose append loses a
// race retries on the new end of the log (where its inputs must still be present).
//
// Its methods are safe for concurrent use; compaction cycles run one at a time.
type Compactor struct {
	*compactorCore
	opts  CompactorOptions
	merge compaction.Options

	statsMu sync.Mutex
	stats   CompactorStats
}

// OpenCompactor claims the compactor role and returns the compactor, stopped: call Start
// for background compaction, or RunCompaction. A compactor that held the role before is
// fenced. DB.Close closes the compactor.
func (db *DB) OpenCompactor(ctx context.Context, opts CompactorOptions) (*Compactor, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	gco := gc.Options{Grace: opts.GCGracePeriod, Interval: opts.GCInterval, Blob: opts.BlobGC, Clock: opts.clock}
	core, err := db.openCore(ctx, opts.OwnerID, opts.GCMarkStorage, gco, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("isledb: open compactor: %w", err)
	}
	c := &Compactor{compactorCore: core, opts: opts}
	epoch := core.fence.Epoch
	c.merge = compaction.Options{
		Store:           db.store,
		SST:             sstWriterOptions(opts.BlockSize, opts.BloomBitsPerKey, opts.Compression),
		TargetSize:      opts.TargetSSTSize,
		VerifyChecksums: !opts.DisableSSTChecksum,
		NewID:           func(seqHi uint64) string { return base.NewSSTID(epoch, seqHi) },
		Epoch:           epoch,
		Buffers:         new(compaction.Buffers),
	}
	if opts.Compression == "zstd" {
		// zstd's encoder is slow enough that compressing blocks on spare cores pays off;
		// compaction is background work that may use them.
		c.merge.SST.Parallelism = min(runtime.GOMAXPROCS(0), 4)
	}
	c.merge.VerifySignature = signatureVerifier(opts.SSTHashVerifier)
	if s := opts.Signer; s != nil {
		c.merge.Sign = func(hash []byte) (*manifest.SSTSignature, error) { return signSST(s, hash) }
	}
	if err := db.register(c); err != nil {
		return nil, err
	}
	opts.Metrics.attach(c)
	return c, nil
}

// Start starts the background loop: a compaction cycle (RunCompaction) every
// CheckInterval. Errors go to the Logger (jobs' errors also to OnCompactionEnd); the loop
// ends by itself if the compactor is fenced. Starting a started compactor does nothing.
func (c *Compactor) Start() { c.start(c.opts.CheckInterval, c.RunCompaction, "compaction cycle") }

// Stop stops the background loop and waits for a cycle in progress to end.
func (c *Compactor) Stop() { c.loop.stop() }

// Close stops the compactor. Deleted SSTs still in their grace period are deleted by the
// next compactor's GC.
func (c *Compactor) Close() error {
	c.close(c)
	c.opts.Metrics.detach(c)
	return nil
}

// Refresh moves the compactor to the newest manifest. It fails with an error wrapping
// manifest.ErrFenced if another compactor claimed the role.
func (c *Compactor) Refresh(ctx context.Context) error { return c.refresh(ctx) }

// IsFenced reports whether the compactor has learned that a newer compactor (or retention
// compactor) claimed the role: at its last Refresh, cycle or append. A fenced compactor
// publishes and deletes nothing.
func (c *Compactor) IsFenced() bool { return c.fenced.Load() }

// FenceToken returns the compactor's fence claim.
func (c *Compactor) FenceToken() *manifest.FenceToken { f := *c.fence; return &f }

// RunCompaction runs one compaction cycle: it moves to the newest manifest, runs jobs (L0
// first, then run merges) until none is due (at most 16), then a GC pass if it compacted
// anything or GCInterval has passed. It returns the first error; a fenced compactor's error
// wraps manifest.ErrFenced.
func (c *Compactor) RunCompaction(ctx context.Context) error {
	return c.cycle(ctx, maxJobsPerCycle, c.pick, func(compacted bool) bool {
		// Output buffers are kept while compactions come regularly.
		c.merge.Buffers.ReleaseIdle(max(2*c.opts.CheckInterval, bufferIdle))
		return compacted || c.gc.Due()
	})
}

// cycle is one compaction cycle under the run lock: from the newest manifest, it runs the
// jobs pick returns (at most maxJobs; maxJobs < 0: until pick returns none), then a GC
// pass if runGC, given whether any job ran, says so.
func (c *Compactor) cycle(ctx context.Context, maxJobs int, pick func(*manifest.Manifest) (*compaction.Plan, CompactionJobType), runGC func(compacted bool) bool) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if err := c.checkUsableLocked(); err != nil {
		return err
	}
	m, err := c.refreshLocked(ctx)
	if err != nil {
		return err
	}
	compacted := false
	for jobs := 0; maxJobs < 0 || jobs < maxJobs; jobs++ {
		plan, typ := pick(m)
		if plan == nil {
			break
		}
		if m, err = c.runJob(ctx, m, plan, typ); err != nil {
			return err
		}
		compacted = true
	}
	if runGC(compacted) {
		if _, err := c.gc.Pass(ctx); err != nil {
			return err
		}
	}
	return nil
}

// bufferIdle is how long the compactor keeps its output buffers after its last job (at
// least two check intervals).
const bufferIdle = time.Minute

// RunGC runs one garbage collection pass now, whatever GCInterval says, and returns what it
// did.
func (c *Compactor) RunGC(ctx context.Context) (GCStats, error) { return c.runGC(ctx) }

// Stats returns the compactor's counters.
func (c *Compactor) Stats() CompactorStats {
	c.statsMu.Lock()
	s := c.stats
	c.statsMu.Unlock()
	s.GC = GCStats(c.gc.Stats())
	return s
}

// sameMarkStorage reports whether a and b are the same storage (values of one comparable
// type that are equal; a non-comparable type cannot be told apart and is accepted).
func sameMarkStorage(a, b manifest.GCMarkStorage) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if !ta.Comparable() {
		return true
	}
	return a == b
}
