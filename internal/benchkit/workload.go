package benchkit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The workloads, in the order Run runs them.
const (
	FillSeq          = "fillseq"          // N puts in ascending key order into an empty engine, then Sync
	FillRandom       = "fillrandom"       // N puts in random order into an empty engine, then Sync (the data set of the rest)
	ReadRandom       = "readrandom"       // random Gets of present keys after a warm-up scan (warm caches)
	ReadMissing      = "readmissing"      // random Gets of absent keys
	Scan             = "scan"             // scans of ScanLength keys from random start keys
	ReadRandomCold   = "readrandom-cold"  // random Gets of present keys right after DropCaches
	Overwrite        = "overwrite"        // N/2 puts of present keys in random order, then Sync
	ReadWhileWriting = "readwhilewriting" // after a warm-up scan, Concurrency readers doing random Gets while one writer overwrites
	ReadLatest       = "readlatest"       // Concurrency readers Get keys written in the last 3 s while one writer writes 10,000 new keys/s and syncs every second
	Tail             = "tail"             // write → flush → delivery to a tailing reader (Tailer engines only)
)

// Workloads lists every workload in run order.
var Workloads = []string{FillSeq, FillRandom, ReadRandom, ReadMissing, Scan, ReadRandomCold, Overwrite, ReadWhileWriting, ReadLatest, Tail}

// Config sizes a run.
type Config struct {
	Keys        int // keys in the data set. Default: 100,000
	KeySize     int // bytes per key, at least 8. Default: 16
	ValueSize   int // bytes per value (about half compressible). Default: 100
	Reads       int // Gets of readrandom and readmissing. Default: Keys/2
	ColdReads   int // Gets of readrandom-cold. Default: min(Reads, 2,000)
	Scans       int // scans of the scan workload. Default: max(Keys/100, 100)
	ScanLength  int // keys per scan. Default: 100
	TailSamples int // writes timed by tail. Default: 100
	Concurrency int // goroutines issuing operations. Default: 1
	// Txns is the transactions each transaction workload (TxnWorkloads) runs. Default:
	// min(Keys, 20,000).
	Txns int
	// TxnConcurrency is the goroutines running them. Default: 8
	TxnConcurrency int
	Workloads      []string // which to run, by name (Workloads and TxnWorkloads). Default: Workloads
	Seed           uint64   // seeds every random choice. Default: 1
	// Progress, when set, is called at the start of each workload with its name and
	// operation count, and returns a function called with the number done (now and then,
	// and once with the total at the end).
	Progress func(workload string, total int) func(done int)
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	var c Config
	c.EnsureDefaults()
	return c
}

// EnsureDefaults fills zero fields.
func (c *Config) EnsureDefaults() {
	if c.Keys == 0 {
		c.Keys = 100_000
	}
	if c.KeySize == 0 {
		c.KeySize = 16
	}
	if c.ValueSize == 0 {
		c.ValueSize = 100
	}
	if c.Reads == 0 {
		c.Reads = max(c.Keys/2, 1)
	}
	if c.ColdReads == 0 {
		c.ColdReads = min(c.Reads, 2000)
	}
	if c.Scans == 0 {
		c.Scans = max(c.Keys/100, 100)
	}
	if c.ScanLength == 0 {
		c.ScanLength = 100
	}
	if c.TailSamples == 0 {
		c.TailSamples = 100
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Txns == 0 {
		c.Txns = min(c.Keys, 20_000)
	}
	if c.TxnConcurrency == 0 {
		c.TxnConcurrency = 8
	}
	if len(c.Workloads) == 0 {
		c.Workloads = slices.Clone(Workloads)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Keys < 1 {
		errs = append(errs, fmt.Errorf("Keys %d: want at least 1", c.Keys))
	}
	if c.KeySize < 8 || c.KeySize > 1024 {
		errs = append(errs, fmt.Errorf("KeySize %d: want 8 to 1024", c.KeySize))
	}
	if c.ValueSize < 0 || c.ValueSize > 1<<20 {
		errs = append(errs, fmt.Errorf("ValueSize %d: want 0 to 1 MiB", c.ValueSize))
	}
	if c.Reads < 0 || c.ColdReads < 0 || c.Scans < 0 || c.ScanLength < 1 || c.TailSamples < 0 {
		errs = append(errs, errors.New("Reads, ColdReads, Scans and TailSamples must not be negative, ScanLength at least 1"))
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("Concurrency %d: want 1 to 1024", c.Concurrency))
	}
	if c.Txns < 0 {
		errs = append(errs, fmt.Errorf("Txns %d: must not be negative", c.Txns))
	}
	if c.TxnConcurrency < 1 || c.TxnConcurrency > 1024 {
		errs = append(errs, fmt.Errorf("TxnConcurrency %d: want 1 to 1024", c.TxnConcurrency))
	}
	for _, w := range c.Workloads {
		if !slices.Contains(Workloads, w) && !slices.Contains(TxnWorkloads, w) {
			errs = append(errs, fmt.Errorf("unknown workload %q (want one of %v or %v)", w, Workloads, TxnWorkloads))
		}
	}
	return errors.Join(errs...)
}

// mix is splitmix64's finalizer: a bijection on uint64, so distinct indexes give
// distinct keys spread over the key space.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// keyGen makes the keys of a run: randomKey(i) for i < Keys is in the data set, for
// i >= Keys it is not; seqKey(i) ascends with i.
type keyGen struct{ size int }

func (g keyGen) randomKey(dst []byte, i int) []byte {
	dst = dst[:0]
	h := mix(uint64(i))
	dst = binary.BigEndian.AppendUint64(dst, h)
	for len(dst) < g.size {
		h = mix(h)
		dst = binary.BigEndian.AppendUint64(dst, h)
	}
	return dst[:g.size]
}

func (g keyGen) seqKey(dst []byte, i int) []byte {
	dst = append(dst[:0], make([]byte, g.size-8)...)
	return binary.BigEndian.AppendUint64(dst, uint64(i))
}

// valuePool is 1 MiB of value bytes: in every 32, 16 random bytes then the first 8 of
// them twice, so snappy halves a value, as db_bench's values (compression ratio 0.5).
type valuePool []byte

func newValuePool(seed uint64) valuePool {
	rng := rand.New(rand.NewPCG(seed, 0x7a1))
	p := make([]byte, 1<<20)
	for i := 0; i < len(p); i += 32 {
		for j := range 16 {
			p[i+j] = byte(rng.Uint32())
		}
		copy(p[i+16:i+24], p[i:i+8])
		copy(p[i+24:i+32], p[i:i+8])
	}
	return p
}

func (p valuePool) value(i, size int) []byte {
	if size == 0 {
		return nil
	}
	off := int(mix(uint64(i)^0x55) % uint64(len(p)-size))
	return p[off : off+size : off+size]
}

// runOps runs fn(worker, i) for i in [0, n) on conc goroutines (each i once), recording
// each call's latency in its worker's histogram. It stops at the first error.
func runOps(ctx context.Context, n, conc int, progress func(int), fn func(w, i int) error) (*Histogram, time.Duration, error) {
	var next, done atomic.Int64
	hists := make([]Histogram, conc)
	errc := make(chan error, conc)
	stop := make(chan struct{})
	var tick sync.WaitGroup
	if progress != nil {
		tick.Add(1)
		go func() {
			defer tick.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					progress(int(done.Load()))
				}
			}
		}()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &hists[w]
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := fn(w, i); err != nil {
					errc <- err
					next.Store(int64(n))
					return
				}
				h.Record(time.Since(t0))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	tick.Wait()
	var all Histogram
	for i := range hists {
		all.Merge(&hists[i])
	}
	select {
	case err := <-errc:
		return &all, elapsed, err
	default:
	}
	if progress != nil {
		progress(n)
	}
	return &all, elapsed, ctx.Err()
}

// Run runs cfg's workloads against instances opened by op and returns one Result per
// workload run. fillseq gets an instance of its own; the others share one loaded by
// fillrandom (run untimed when not asked for). tail is skipped for engines that are not
// Tailers, the transaction workloads for engines that are not Transactors.
func Run(ctx context.Context, cfg Config, op Opener) ([]Result, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("benchkit: %w", err)
	}
	r := &runner{cfg: cfg, op: op, keys: keyGen{cfg.KeySize}, values: newValuePool(cfg.Seed)}
	want := func(w string) bool { return slices.Contains(cfg.Workloads, w) }
	var out []Result
	if want(FillSeq) {
		e, err := op.Open(ctx, "fillseq")
		if err != nil {
			return nil, err
		}
		res, err := r.fill(ctx, e, FillSeq)
		if cerr := e.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", FillSeq, err)
		}
		out = append(out, res)
	}
	rest := slices.DeleteFunc(slices.Clone(cfg.Workloads), func(w string) bool { return w == FillSeq })
	if len(rest) == 0 {
		return out, nil
	}
	e, err := op.Open(ctx, "main")
	if err != nil {
		return out, err
	}
	defer e.Close()
	res, err := r.fill(ctx, e, FillRandom)
	if err != nil {
		return out, fmt.Errorf("%s: %w", FillRandom, err)
	}
	if want(FillRandom) {
		out = append(out, res)
	}
	for _, w := range append(slices.Clone(Workloads[2:]), TxnWorkloads...) {
		if !want(w) {
			continue
		}
		var res Result
		var err error
		switch w {
		case ReadRandom:
			if err = r.warm(e); err == nil {
				res, err = r.gets(ctx, e, w, cfg.Reads, false)
			}
		case ReadMissing:
			res, err = r.gets(ctx, e, w, cfg.Reads, true)
		case Scan:
			res, err = r.scans(ctx, e)
		case ReadRandomCold:
			if err = e.DropCaches(); err == nil {
				res, err = r.gets(ctx, e, w, cfg.ColdReads, false)
			}
		case Overwrite:
			res, err = r.overwrite(ctx, e)
		case ReadWhileWriting:
			// Warm again: readrandom-cold may have emptied the caches.
			if err = r.warm(e); err == nil {
				res, err = r.readWhileWriting(ctx, e)
			}
		case ReadLatest:
			res, err = r.readLatest(ctx, e)
		case Tail:
			t, ok := e.(Tailer)
			if !ok {
				continue
			}
			res, err = r.tail(ctx, e, t)
		case Txn0, Txn10, Txn50:
			t, ok := e.(Transactor)
			if !ok {
				continue
			}
			res, err = r.txns(ctx, e, t, w)
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", w, err)
		}
		out = append(out, res)
	}
	return out, nil
}

type runner struct {
	cfg    Config
	op     Opener
	keys   keyGen
	values valuePool
	seq    atomic.Int64 // value variant, so overwrites change values
}

// progress returns the Config's progress callback for a workload, safe for concurrent use
// (workloads such as readlatest report from every reader goroutine; the caller's callback,
// a terminal bar, is not safe for that).
func (r *runner) progress(name string, n int) func(int) {
	if r.cfg.Progress == nil {
		return nil
	}
	report := r.cfg.Progress(r.op.Engine+"/"+name, n)
	if report == nil {
		return nil
	}
	var mu sync.Mutex
	return func(done int) {
		mu.Lock()
		defer mu.Unlock()
		report(done)
	}
}

// measure wraps a workload body with the request accounting of e.
func (r *runner) measure(e Engine, name string, body func() (ops int64, h *Histogram, elapsed time.Duration, logical, moved int64, err error)) (Result, error) {
	rc, counted := e.(RequestCounter)
	var before Requests
	if counted {
		before = RequestsFromStats(rc.StoreStats())
	}
	ops, h, elapsed, logical, moved, err := body()
	if err != nil {
		return Result{}, err
	}
	res := newResult(r.op, r.cfg, name, ops, h, elapsed, moved)
	if counted {
		req := RequestsFromStats(rc.StoreStats())
		req = req.sub(before)
		res.setRequests(req, logical)
	}
	return res, nil
}

// fill writes every key (in order or a random permutation) and syncs.
func (r *runner) fill(ctx context.Context, e Engine, name string) (Result, error) {
	n := r.cfg.Keys
	var perm []int
	if name == FillRandom {
		perm = rand.New(rand.NewPCG(r.cfg.Seed, 0xf111)).Perm(n)
	}
	kv := int64(r.cfg.KeySize + r.cfg.ValueSize)
	bufs := make([][]byte, r.cfg.Concurrency)
	return r.measure(e, name, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		h, el, err := runOps(ctx, n, r.cfg.Concurrency, r.progress(name, n), func(w, i int) error {
			if perm != nil {
				bufs[w] = r.keys.randomKey(bufs[w], perm[i])
			} else {
				bufs[w] = r.keys.seqKey(bufs[w], i)
			}
			return e.Put(bufs[w], r.values.value(i, r.cfg.ValueSize))
		})
		if err != nil {
			return 0, nil, 0, 0, 0, err
		}
		t0 := time.Now()
		if err := e.Sync(); err != nil {
			return 0, nil, 0, 0, 0, err
		}
		el += time.Since(t0)
		return int64(n), h, el, int64(n) * kv, int64(n) * kv, nil
	})
}

// warm scans the whole data set once, untimed, so every block is cached, then lets a
// Warmer finish its background caching.
func (r *runner) warm(e Engine) error {
	var start []byte
	for {
		c, _, last, err := e.Scan(start, 10_000)
		if err != nil {
			return err
		}
		if c < 10_000 {
			break
		}
		start = append(last, 0)
	}
	if w, ok := e.(Warmer); ok {
		return w.Warm()
	}
	return nil
}

// gets reads n random keys, present (i < Keys) or absent (i >= Keys).
func (r *runner) gets(ctx context.Context, e Engine, name string, n int, missing bool) (Result, error) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(len(name))))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = rng.IntN(r.cfg.Keys)
		if missing {
			idx[i] += r.cfg.Keys
		}
	}
	bufs := make([][]byte, r.cfg.Concurrency)
	var found atomic.Int64
	return r.measure(e, name, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		h, el, err := runOps(ctx, n, r.cfg.Concurrency, r.progress(name, n), func(w, i int) error {
			bufs[w] = r.keys.randomKey(bufs[w], idx[i])
			ok, err := e.Get(bufs[w])
			if err != nil {
				return err
			}
			if ok != !missing {
				return fmt.Errorf("key %d: found %v, want %v", idx[i], ok, !missing)
			}
			if ok {
				found.Add(1)
			}
			return nil
		})
		return int64(n), h, el, 0, found.Load() * int64(r.cfg.KeySize+r.cfg.ValueSize), err
	})
}

// scans reads Scans ranges of ScanLength keys from random start keys.
func (r *runner) scans(ctx context.Context, e Engine) (Result, error) {
	n := r.cfg.Scans
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x5ca))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = r.cfg.Keys + rng.IntN(1<<30) // absent keys: a random position
	}
	bufs := make([][]byte, r.cfg.Concurrency)
	var moved atomic.Int64
	return r.measure(e, Scan, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		h, el, err := runOps(ctx, n, r.cfg.Concurrency, r.progress(Scan, n), func(w, i int) error {
			bufs[w] = r.keys.randomKey(bufs[w], idx[i])
			_, b, _, err := e.Scan(bufs[w], r.cfg.ScanLength)
			moved.Add(int64(b))
			return err
		})
		return int64(n), h, el, 0, moved.Load(), err
	})
}

// overwrite puts Keys/2 present keys in random order with new values, then syncs.
func (r *runner) overwrite(ctx context.Context, e Engine) (Result, error) {
	n := max(r.cfg.Keys/2, 1)
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x0e))
	kv := int64(r.cfg.KeySize + r.cfg.ValueSize)
	bufs := make([][]byte, r.cfg.Concurrency)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = rng.IntN(r.cfg.Keys)
	}
	shift := int(r.seq.Add(1)) * 7
	return r.measure(e, Overwrite, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		h, el, err := runOps(ctx, n, r.cfg.Concurrency, r.progress(Overwrite, n), func(w, i int) error {
			bufs[w] = r.keys.randomKey(bufs[w], idx[i])
			return e.Put(bufs[w], r.values.value(i+shift, r.cfg.ValueSize))
		})
		if err != nil {
			return 0, nil, 0, 0, 0, err
		}
		t0 := time.Now()
		if err := e.Sync(); err != nil {
			return 0, nil, 0, 0, 0, err
		}
		return int64(n), h, el + time.Since(t0), int64(n) * kv, int64(n) * kv, nil
	})
}

// readWhileWriting runs Reads random Gets of present keys on Concurrency goroutines while
// one more goroutine overwrites random keys until the reads are done (then syncs), as
// db_bench's readwhilewriting; the reads are measured. A Refresher is refreshed every
// 100 ms so readers see the writer's flushes.
func (r *runner) readWhileWriting(ctx context.Context, e Engine) (Result, error) {
	n := r.cfg.Reads
	kv := int64(r.cfg.KeySize + r.cfg.ValueSize)
	return r.measure(e, ReadWhileWriting, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		var stop atomic.Bool
		var writeErr error
		writes := 0
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x3e))
			var buf []byte
			last := time.Now()
			rf, refresh := e.(Refresher)
			for ; !stop.Load(); writes++ {
				buf = r.keys.randomKey(buf, rng.IntN(r.cfg.Keys))
				if writeErr = e.Put(buf, r.values.value(writes+3, r.cfg.ValueSize)); writeErr != nil {
					return
				}
				if refresh && time.Since(last) > 100*time.Millisecond {
					last = time.Now()
					if writeErr = rf.Refresh(); writeErr != nil {
						return
					}
				}
			}
			writeErr = e.Sync()
		}()
		rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x4e))
		idx := make([]int, n)
		for i := range idx {
			idx[i] = rng.IntN(r.cfg.Keys)
		}
		bufs := make([][]byte, r.cfg.Concurrency)
		h, el, err := runOps(ctx, n, r.cfg.Concurrency, r.progress(ReadWhileWriting, n), func(w, i int) error {
			bufs[w] = r.keys.randomKey(bufs[w], idx[i])
			ok, err := e.Get(bufs[w])
			if err == nil && !ok {
				err = fmt.Errorf("key %d not found", idx[i])
			}
			return err
		})
		stop.Store(true)
		wg.Wait()
		if err == nil {
			err = writeErr
		}
		if err != nil {
			return 0, nil, 0, 0, 0, err
		}
		return int64(n), h, el, int64(writes) * kv, int64(n) * kv, nil
	})
}

// The writer of readlatest: latestRate new keys per second, a Sync every second; readers
// pick among the keys of the last latestWindow syncs, for at least latestSyncs syncs.
const (
	latestRate   = 10_000
	latestWindow = 3
	latestSyncs  = 5
)

// readLatest runs Gets on Concurrency goroutines of keys written in the last few seconds,
// while one more goroutine writes new keys (absent from the data set) at latestRate and
// syncs every second: what a reader of fresh data sees. It runs for at least Reads Gets
// and latestSyncs syncs; the reads are measured. The data set is left as it was plus the
// new keys.
func (r *runner) readLatest(ctx context.Context, e Engine) (Result, error) {
	n := r.cfg.Reads
	kv := int64(r.cfg.KeySize + r.cfg.ValueSize)
	first := 4 * r.cfg.Keys // new key j is randomKey(first + j)
	var lo, hi atomic.Int64 // readers pick j in [lo, hi): synced, in the window
	var syncs atomic.Int64  // syncs of the measured phase
	written := 0
	var buf []byte
	write := func(k int) error {
		for range k {
			buf = r.keys.randomKey(buf, first+written)
			if err := e.Put(buf, r.values.value(written+11, r.cfg.ValueSize)); err != nil {
				return err
			}
			written++
		}
		return nil
	}
	// One second's worth first, so the window is never empty.
	if err := write(latestRate); err != nil {
		return Result{}, err
	}
	if err := e.Sync(); err != nil {
		return Result{}, err
	}
	synced := []int{0, written}
	hi.Store(int64(written))
	return r.measure(e, ReadLatest, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		var stop atomic.Bool
		var writeErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for ticks := 1; !stop.Load(); ticks++ {
				<-tick.C
				if writeErr = write(latestRate / 10); writeErr != nil {
					stop.Store(true)
					return
				}
				if ticks%10 == 0 {
					if writeErr = e.Sync(); writeErr != nil {
						stop.Store(true)
						return
					}
					synced = append(synced, written)
					syncs.Add(1)
					hi.Store(int64(written))
					lo.Store(int64(synced[max(0, len(synced)-1-latestWindow)]))
				}
			}
		}()
		var done atomic.Int64
		var readErr error
		var errOnce sync.Once
		hists := make([]Histogram, r.cfg.Concurrency)
		prog := r.progress(ReadLatest, n)
		start := time.Now()
		var readers sync.WaitGroup
		for w := range r.cfg.Concurrency {
			readers.Add(1)
			go func() {
				defer readers.Done()
				rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x1a+uint64(w)))
				var kb []byte
				for ctx.Err() == nil && !stop.Load() {
					l, u := lo.Load(), hi.Load()
					j := int(l + rng.Int64N(u-l))
					kb = r.keys.randomKey(kb, first+j)
					t0 := time.Now()
					ok, err := e.Get(kb)
					if err == nil && !ok {
						err = fmt.Errorf("new key %d (window %d..%d) not found", j, l, u)
					}
					if err != nil {
						errOnce.Do(func() { readErr = err })
						stop.Store(true)
						return
					}
					hists[w].Record(time.Since(t0))
					if d := done.Add(1); prog != nil && d%1000 == 0 {
						prog(int(min(d, int64(n))))
					}
				}
			}()
		}
		// Stop the readers once both quotas are met (or one side failed).
		for !stop.Load() && (done.Load() < int64(n) || syncs.Load() < latestSyncs) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		stop.Store(true)
		readers.Wait()
		el := time.Since(start)
		wg.Wait()
		if prog != nil {
			prog(n)
		}
		h := &Histogram{}
		for i := range hists {
			h.Merge(&hists[i])
		}
		err := readErr
		if err == nil {
			err = writeErr
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return 0, nil, 0, 0, 0, err
		}
		if err := e.Sync(); err != nil {
			return 0, nil, 0, 0, 0, err
		}
		reads := done.Load()
		return reads, h, el, int64(written) * kv, reads * kv, nil
	})
}

// tail measures write → flush → tailer delivery for TailSamples keys above the data set.
func (r *runner) tail(ctx context.Context, e Engine, t Tailer) (Result, error) {
	n := r.cfg.TailSamples
	key := func(i int) []byte {
		// 0xff bytes then the index: a range random keys almost never fall in (and the
		// tailer's deliveries are matched by key, so one that did would be skipped).
		k := make([]byte, r.cfg.KeySize)
		for j := range len(k) - 8 {
			k[j] = 0xff
		}
		binary.BigEndian.PutUint64(k[len(k)-8:], uint64(i))
		return k
	}
	value := r.values.value(9, r.cfg.ValueSize)
	kv := int64(r.cfg.KeySize + r.cfg.ValueSize)
	return r.measure(e, Tail, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		var h Histogram
		prog := r.progress(Tail, n)
		done := 0
		start := time.Now()
		err := t.TailLatency(ctx, n, key, value, func(d time.Duration) {
			h.Record(d)
			done++
			if prog != nil {
				prog(done)
			}
		})
		return int64(n), &h, time.Since(start), int64(n) * kv, int64(n) * kv, err
	})
}
