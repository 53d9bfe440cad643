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
	// TailPoll is how often the tailer looks for new SSTs in TailLatency. Default: 10 ms.
	TailPoll time.Duration
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
	opts     IsleDBOptions
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
	if err := e.openReader(); err != nil {
		_ = e.w.Close()
		_ = e.db.Close()
		return nil, err
	}
	return e, nil
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

func (e *isleEngine) Scan(start []byte, n int) (int, int, []byte, error) {
	kvs, err := e.r.ScanLimit(e.ctx, start, nil, n)
	if err != nil {
		return 0, 0, nil, err
	}
	b := 0
	for _, kv := range kvs {
		b += len(kv.Key) + len(kv.Value)
	}
	var last []byte
	if len(kvs) > 0 {
		last = kvs[len(kvs)-1].Key
	}
	return len(kvs), b, last, nil
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
	return errors.Join(e.r.Close(), e.w.Close(), e.db.Close(), e.store.Close())
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
