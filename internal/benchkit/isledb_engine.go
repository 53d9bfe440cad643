package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// IsleDBOptions configures the IsleDB engine of the workloads.
type IsleDBOptions struct {
	// Backend is "memory", "file", "sim-s3" (memory behind a SimBackend) or "s3" (any
	// blobstore.Open URL, in URL). Default: "memory".
	Backend string
	// Dir holds the file bucket (file backend) and the readers' caches. Default: a new
	// temporary directory, removed by Cleanup.
	Dir string
	// URL is the bucket URL of the "s3" backend (blobstore.Open).
	URL string
	// Prefix is prepended to each instance's prefix in the bucket. Default: "bench".
	Prefix string
	// Sim is the latency model of "sim-s3".
	Sim SimOptions
	// Writer and Reader options; zero fields take IsleDB's defaults (Reader.CacheDir is
	// set per instance).
	Writer isledb.WriterOptions
	Reader isledb.ReaderOpenOptions
	// NoCompactor runs no compactor. Default: false, each instance runs a Compactor in the
	// background (DB.OpenCompactor, Start), opened with the instance and closed with it,
	// as the peers compact in the background.
	NoCompactor bool
	// Compactor options of that compactor; zero fields take IsleDB's defaults.
	Compactor isledb.CompactorOptions
	// OnClose, when set, is called as each instance closes with what its LSM looks like
	// then, so that a report can say how much compaction happened. Default: nothing.
	OnClose func(IsleDBSummary)
	// TailPoll is how often the tailer looks for new SSTs in TailLatency. Default: 10 ms.
	TailPoll time.Duration
}

// IsleDBSummary is the shape of an IsleDB instance as it closes (IsleDBOptions.OnClose).
type IsleDBSummary struct {
	// Name is the instance's name ("fillseq", "main").
	Name string
	// L0SSTs and SortedRuns count the newest manifest's L0 SSTs and sorted runs.
	L0SSTs, SortedRuns int
	// Compacted reports whether a compactor ran; Compactor is its counters.
	Compacted bool
	Compactor isledb.CompactorStats
}

// String formats the summary on one line.
func (s IsleDBSummary) String() string {
	c := "no compactor"
	if s.Compacted {
		c = fmt.Sprintf("compactor: %d compactions (%d failed), %d SSTs in, %d out", s.Compactor.Compactions, s.Compactor.Failures, s.Compactor.InputSSTs, s.Compactor.OutputSSTs)
	}
	return fmt.Sprintf("isledb %s at close: %d L0 SSTs, %d sorted runs; %s", s.Name, s.L0SSTs, s.SortedRuns, c)
}

// IsleDBOpener returns the Opener of IsleDB instances; call cleanup when done with them.
func IsleDBOpener(o IsleDBOptions) (op Opener, cleanup func(), err error) {
	if o.Backend == "" {
		o.Backend = "memory"
	}
	if o.Prefix == "" {
		o.Prefix = "bench"
	}
	if o.TailPoll <= 0 {
		o.TailPoll = 10 * time.Millisecond
	}
	cleanup = func() {}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "isledb-bench-")
		if err != nil {
			return Opener{}, nil, err
		}
		o.Dir = d
		cleanup = func() { _ = os.RemoveAll(d) }
	}
	switch o.Backend {
	case "memory", "file", "sim-s3":
	case "s3":
		if o.URL == "" {
			return Opener{}, nil, errors.New("benchkit: the s3 backend needs a bucket URL")
		}
	default:
		return Opener{}, nil, fmt.Errorf("benchkit: unknown backend %q (want memory, file, sim-s3 or s3)", o.Backend)
	}
	run := time.Now().UTC().Format("20060102T150405.000")
	open := func(ctx context.Context, name string) (Engine, error) {
		prefix := o.Prefix + "/" + run + "-" + name
		var store *blobstore.Store
		var err error
		switch o.Backend {
		case "memory":
			store = blobstore.NewMemory(prefix)
		case "sim-s3":
			store = NewSimStore(prefix, o.Sim)
		case "file":
			store, err = blobstore.NewFile(ctx, filepath.Join(o.Dir, "bucket"), prefix)
		case "s3":
			store, err = blobstore.Open(ctx, o.URL, prefix)
		}
		if err != nil {
			return nil, err
		}
		e, err := openIsle(ctx, store, o, filepath.Join(o.Dir, "cache", name))
		if e != nil {
			e.name = name
		}
		if err != nil {
			_ = store.Close()
			return nil, err
		}
		return e, nil
	}
	return Opener{Engine: "isledb", Backend: o.Backend, Open: open}, cleanup, nil
}

// isleEngine is one IsleDB database: a writer and a reader on one store.
type isleEngine struct {
	ctx      context.Context
	store    *blobstore.Store
	db       *isledb.DB
	w        *isledb.Writer
	r        *isledb.Reader
	c        *isledb.Compactor // nil with NoCompactor
	opts     IsleDBOptions
	name     string
	cacheDir string
	cacheGen int
}

var (
	_ Engine         = (*isleEngine)(nil)
	_ Refresher      = (*isleEngine)(nil)
	_ RequestCounter = (*isleEngine)(nil)
	_ Tailer         = (*isleEngine)(nil)
	_ Transactor     = (*isleEngine)(nil)
	_ Warmer         = (*isleEngine)(nil)
)

func openIsle(ctx context.Context, store *blobstore.Store, o IsleDBOptions, cacheDir string) (*isleEngine, error) {
	e := &isleEngine{ctx: ctx, store: store, opts: o, cacheDir: cacheDir}
	var err error
	if e.db, err = isledb.OpenDB(ctx, store, isledb.DBOptions{}); err != nil {
		return nil, err
	}
	if e.w, err = e.db.OpenWriter(ctx, o.Writer); err != nil {
		_ = e.db.Close()
		return nil, err
	}
	if !o.NoCompactor {
		if e.c, err = e.db.OpenCompactor(ctx, o.Compactor); err != nil {
			_ = e.w.Close()
			_ = e.db.Close()
			return nil, err
		}
		e.c.Start()
	}
	if err := e.openReader(); err != nil {
		_ = e.closeCompactor()
		_ = e.w.Close()
		_ = e.db.Close()
		return nil, err
	}
	return e, nil
}

// Compactor returns the instance's compactor (nil with NoCompactor).
func (e *isleEngine) Compactor() *isledb.Compactor { return e.c }

func (e *isleEngine) closeCompactor() error {
	if e.c == nil {
		return nil
	}
	return e.c.Close()
}

func (e *isleEngine) openReader() error {
	e.cacheGen++
	ro := e.opts.Reader
	if ro.CacheDir == "" && ro.BlockCacheSize == 0 {
		ro = isledb.DefaultReaderOpenOptions()
	}
	ro.CacheDir = filepath.Join(e.cacheDir, fmt.Sprintf("r%d", e.cacheGen))
	r, err := isledb.OpenReader(e.ctx, e.store, ro)
	if err != nil {
		return err
	}
	e.r = r
	return nil
}

func (e *isleEngine) Put(key, value []byte) error {
	for {
		err := e.w.Put(key, value)
		if !errors.Is(err, isledb.ErrBackpressure) {
			return err
		}
		time.Sleep(100 * time.Microsecond) // the flush queue is full: let it drain
	}
}

// ReadModifyWrite implements Transactor with a snapshot-isolation transaction of the
// writer (Writer.Begin); a Commit refused for backpressure is retried once the flush queue
// drains.
func (e *isleEngine) ReadModifyWrite(key, value []byte) (bool, error) {
	x, err := e.w.Begin(e.ctx)
	if err != nil {
		return false, err
	}
	defer x.Rollback()
	if _, _, err := x.Get(e.ctx, key); err != nil {
		return errors.Is(err, isledb.ErrConflict), ignoreConflict(err)
	}
	if err := x.Put(key, value); err != nil {
		return false, err
	}
	for {
		err := x.Commit(e.ctx)
		if !errors.Is(err, isledb.ErrBackpressure) {
			return errors.Is(err, isledb.ErrConflict), ignoreConflict(err)
		}
		time.Sleep(100 * time.Microsecond) // the flush queue is full: let it drain
	}
}

func ignoreConflict(err error) error {
	if errors.Is(err, isledb.ErrConflict) {
		return nil
	}
	return err
}

func (e *isleEngine) Get(key []byte) (bool, error) {
	_, ok, err := e.r.Get(e.ctx, key)
	return ok, err
}

// Scan iterates with a Reader iterator, as the peers' adapters do with theirs: no pair is
// copied but the n-th key (ScanTally).
func (e *isleEngine) Scan(start []byte, n int) (int, int, []byte, error) {
	it, err := e.r.NewIterator(e.ctx, isledb.IteratorOptions{MinKey: start})
	if err != nil {
		return 0, 0, nil, err
	}
	var t ScanTally
	for t.Count < n && it.Next() {
		t.Add(it.Key(), it.Value())
		if t.Count == n {
			t.Last(it.Key())
		}
	}
	return t.Count, t.Bytes, t.LastKey, it.Close()
}

func (e *isleEngine) Sync() error {
	if err := e.w.Flush(e.ctx); err != nil {
		return err
	}
	return e.r.Refresh(e.ctx)
}

func (e *isleEngine) Refresh() error { return e.r.Refresh(e.ctx) }

// Warm waits for the SSTs the warm-up read by range to be filled into the disk cache.
func (e *isleEngine) Warm() error { return e.r.RefreshAndPrefetchSSTs(e.ctx) }

// DropCaches closes the reader, removes its disk caches and opens a new one: the next
// reads fetch every SST (or block) from the bucket again.
func (e *isleEngine) DropCaches() error {
	old := filepath.Join(e.cacheDir, fmt.Sprintf("r%d", e.cacheGen))
	if err := e.r.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	return e.openReader()
}

func (e *isleEngine) StoreStats() blobstore.Stats { return e.store.Stats() }

func (e *isleEngine) Close() error {
	if e.opts.OnClose != nil {
		e.opts.OnClose(e.summary())
	}
	return errors.Join(e.closeCompactor(), e.r.Close(), e.w.Close(), e.db.Close(), e.store.Close())
}

// summary reads the newest manifest (a Refresh, ignored if it fails) and the compactor's
// counters.
func (e *isleEngine) summary() IsleDBSummary {
	_ = e.r.Refresh(e.ctx)
	m := e.r.ManifestUnsafe()
	s := IsleDBSummary{Name: e.name, L0SSTs: len(m.L0SSTs), SortedRuns: len(m.SortedRuns), Compacted: e.c != nil}
	if e.c != nil {
		s.Compactor = e.c.Stats()
	}
	return s
}

// TailLatency implements Tailer with a TailingReader on the same store that polls every
// TailPoll.
func (e *isleEngine) TailLatency(ctx context.Context, n int, key func(i int) []byte, value []byte, record func(time.Duration)) error {
	if n <= 0 {
		return nil
	}
	to := isledb.DefaultTailingReaderOpenOptions()
	to.RefreshInterval = e.opts.TailPoll
	to.ReaderOptions.CacheDir = filepath.Join(e.cacheDir, "tail")
	t, err := isledb.OpenTailingReader(ctx, e.store, to)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := t.Start(); err != nil {
		return err
	}
	first, lastKey := key(0), key(n-1)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kvs, errc := t.TailChannel(tctx, isledb.TailOptions{MinKey: first, MaxKey: lastKey, PollInterval: e.opts.TailPoll})
	for i := range n {
		k := key(i)
		start := time.Now()
		if err := e.Put(k, value); err != nil {
			return err
		}
		if err := e.w.Flush(ctx); err != nil {
			return err
		}
		deadline := time.NewTimer(time.Minute)
		for done := false; !done; {
			select {
			case kv, ok := <-kvs:
				if !ok {
					deadline.Stop()
					return fmt.Errorf("benchkit: tail ended: %v", <-errc)
				}
				if bytes.Equal(kv.Key, k) {
					record(time.Since(start))
					done = true
				}
			case <-deadline.C:
				return fmt.Errorf("benchkit: key %d not delivered by the tailer within a minute", i)
			}
		}
		deadline.Stop()
	}
	return nil
}
