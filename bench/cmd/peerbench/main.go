// Command peerbench runs the benchkit workloads (internal/benchkit, the same ones
// "isledb bench" runs) against IsleDB on the local file backend, against kv (the typed
// local store on the same engine, -kv-preset) and against Pebble v2, Badger v4 and
// goleveldb on local disk, one engine after the other on the same machine with the same
// keys and values, and prints every result, the process's peak RSS, and the ratios
// base/peer (-base, default isledb).
//
//	cd bench && go run ./cmd/peerbench -keys 200000 -json peers.json -markdown peers.md -svg peers.svg
//
// Like for like: every engine gets the same memtable size (-memtable-size, IsleDB's
// 64 MiB default), block cache (-cache) and a 10-bit bloom filter; writes are not synced
// one by one (Pebble NoSync, Badger SyncWrites false, goleveldb Sync false) and a write
// workload ends with each engine's flush or sync: IsleDB uploads its memtable to the
// bucket, Pebble flushes its memtable to an L0 table, Badger and goleveldb fsync their
// logs; kv runs with WALSyncNone and flushes its memtable. With -sync every write is
// synced before it returns instead (Pebble Sync, Badger SyncWrites, goleveldb Sync, kv
// WALSyncPerBatch, IsleDB with a WAL in strict mode). Every engine compacts in the
// background: IsleDB runs a Compactor with each instance (-no-compactor: none). Every
// engine's scan iterates and touches each pair, copying only the key where the next scan
// resumes (benchkit.ScanTally). readrandom-cold closes and reopens
// the engine (IsleDB: a new reader with empty caches); the OS page cache stays warm for
// every engine, so it measures an empty process cache, not a cold disk.
//
// The transaction workloads (-workloads txn0,txn10,txn50, not in the default list) run
// read-modify-write transactions from -txn-concurrency goroutines, 0%, 10% or 50% of
// them on one hot key, on the engines with optimistic transactions: IsleDB
// (Writer.Begin), kv (Store.Begin) and Badger (NewTransaction, ErrConflict); Pebble and
// goleveldb have none and skip them. They print commits/s, conflicts per transaction and
// the attempt latency, with ratios vs -txn-peer (default badger):
//
//	cd bench && go run ./cmd/peerbench -engines isledb,kv,badger -workloads txn0,txn10,txn50 -keys 50000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/benchkit"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

// peerOptions are the settings every peer shares.
type peerOptions struct {
	memtable int64
	cache    int64
	sync     bool   // -sync: every write synced (per batch where the engine groups them)
	kvPreset string // -kv-preset: the kv options preset
}

var peers = map[string]func(dir string, o peerOptions) benchkit.Opener{
	"pebble":    pebbleOpener,
	"badger":    badgerOpener,
	"goleveldb": leveldbOpener,
	"kv":        kvOpener,
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keys := fs.Int("keys", 200_000, "keys in the data set")
	keySize := fs.Int("key-size", 16, "bytes per key")
	valueSize := fs.Int("value-size", 100, "bytes per value")
	profile := fs.String("profile", "default", `"default" (16/100) or "slatedb" (20-byte keys, 400-byte values)`)
	reads := fs.Int("reads", 0, "Gets of readrandom and readmissing (default keys/2)")
	coldReads := fs.Int("cold-reads", 0, "Gets of readrandom-cold (default min(reads, 2000))")
	scans := fs.Int("scans", 0, "100-key scans (default max(keys/100, 100))")
	tailSamples := fs.Int("tail-samples", 50, "writes timed by tail (IsleDB only)")
	conc := fs.Int("concurrency", 1, "goroutines issuing operations")
	txns := fs.Int("txns", 0, "transactions per transaction workload (default min(keys, 20000))")
	txnConc := fs.Int("txn-concurrency", 8, "goroutines of the transaction workloads")
	txnPeer := fs.String("txn-peer", "badger", "the engine the transaction table compares every engine with")
	workloads := fs.String("workloads", strings.Join(benchkit.Workloads, ","), "comma-separated workloads")
	engines := fs.String("engines", "isledb,pebble,badger,goleveldb", "comma-separated engines")
	dir := fs.String("dir", "", "where the data goes (default: a temporary directory, removed)")
	memtable := fs.Int64("memtable-size", isledb.DefaultMemtableSize, "memtable size of every engine")
	cache := fs.Int64("cache", isledb.DefaultBlockCacheSize, "block cache of every engine")
	jsonPath := fs.String("json", "", "write the results and ratios as JSON here")
	mdPath := fs.String("markdown", "", "write the results and ratios as markdown here")
	svgPath := fs.String("svg", "", "write a chart of throughput and p99 per workload and engine here")
	quiet := fs.Bool("quiet", false, "no progress lines")
	syncWrites := fs.Bool("sync", false, "durable writes: every write synced before it returns (Pebble Sync, Badger SyncWrites, goleveldb Sync, kv WALSyncPerBatch, IsleDB a WAL in strict mode)")
	kvPreset := fs.String("kv-preset", "default", `kv options: "default", "high" (HighPerformanceOptions) or "low" (LowMemoryOptions, its own memtable and cache sizes)`)
	base := fs.String("base", "isledb", "the engine the ratios compare to its peers")
	compactEvery := fs.Duration("compactor-interval", 0, "IsleDB compactor's CheckInterval (default: IsleDB's, 5s)")
	noCompactor := fs.Bool("no-compactor", false, "run IsleDB without its background compactor (by default one runs with each instance, as every peer compacts in the background)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *profile == "slatedb" {
		if !set["key-size"] {
			*keySize = 20
		}
		if !set["value-size"] {
			*valueSize = 400
		}
	} else if *profile != "default" {
		return fmt.Errorf("unknown -profile %q", *profile)
	}
	cfg := benchkit.Config{Keys: *keys, KeySize: *keySize, ValueSize: *valueSize, Reads: *reads,
		ColdReads: *coldReads, Scans: *scans, TailSamples: *tailSamples, Concurrency: *conc,
		Txns: *txns, TxnConcurrency: *txnConc}
	for _, w := range strings.Split(*workloads, ",") {
		if w = strings.TrimSpace(w); w != "" {
			cfg.Workloads = append(cfg.Workloads, w)
		}
	}
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if !*quiet {
		cfg.Progress = progress(stderr)
	}
	root := *dir
	if root == "" {
		d, err := os.MkdirTemp("", "peerbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		root = d
	}
	po := peerOptions{memtable: *memtable, cache: *cache, sync: *syncWrites, kvPreset: *kvPreset}
	fmt.Fprintf(stdout, "peerbench: %d keys of %d B, values of %d B, concurrency %d, memtable %d MiB, block cache %d MiB, %d CPUs, load %s\n\n",
		cfg.Keys, cfg.KeySize, cfg.ValueSize, cfg.Concurrency, *memtable>>20, *cache>>20, runtime.NumCPU(), benchkit.ThisMachine().LoadAvg)
	fmt.Fprintf(stdout, "compaction: %s\n\n", compactionNote(*noCompactor, *compactEvery))
	ctx := context.Background()
	var all []benchkit.Result
	var noTxn []string     // engines asked to run a transaction workload they cannot
	var summaries []string // IsleDB's instances as they closed: L0 SSTs, runs, compactions
	for _, name := range strings.Split(*engines, ",") {
		name = strings.TrimSpace(name)
		edir := filepath.Join(root, name)
		var op benchkit.Opener
		cleanup := func() {}
		switch {
		case name == "isledb":
			wo := isledb.WriterOptions{MemtableSize: *memtable}
			if *syncWrites {
				wo.WALDir = filepath.Join(edir, "wal") // strict mode: acknowledged once fsynced
			}
			wo.EnsureDefaults()
			ro := isledb.DefaultReaderOpenOptions()
			ro.BlockCacheSize = *cache
			var err error
			if op, cleanup, err = benchkit.IsleDBOpener(benchkit.IsleDBOptions{Backend: "file", Dir: edir, Writer: wo, Reader: ro, NoCompactor: *noCompactor, Compactor: isledb.CompactorOptions{CheckInterval: *compactEvery},
				OnClose: func(s benchkit.IsleDBSummary) { summaries = append(summaries, s.String()) }}); err != nil {
				return err
			}
		case peers[name] != nil:
			op = peers[name](edir, po)
		default:
			return fmt.Errorf("unknown engine %q (want isledb, pebble, badger, goleveldb or kv)", name)
		}
		if wantsTxn(cfg.Workloads) && (name == "pebble" || name == "goleveldb") {
			noTxn = append(noTxn, name)
		}
		runtime.GC()
		res, err := benchkit.Run(ctx, cfg, op)
		cleanup()
		_ = os.RemoveAll(edir)
		all = append(all, res...)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Fprintln(stdout)
	if err := benchkit.WriteTable(stdout, all); err != nil {
		return err
	}
	if wantsTxn(cfg.Workloads) {
		fmt.Fprintf(stdout, "\ntransactions (commits/s; conflicts per transaction attempted; latency of an attempt, Begin to Commit; %d goroutines):\n", cfg.TxnConcurrency)
		if err := benchkit.WriteTxnTable(stdout, all, *txnPeer, false); err != nil {
			return err
		}
		if len(noTxn) > 0 {
			fmt.Fprintf(stdout, "skipped for %s: no optimistic transactions\n", strings.Join(noTxn, ", "))
		}
	}
	for _, line := range summaries {
		fmt.Fprintln(stdout, line)
	}
	if hwm := peakRSS(); hwm != "" {
		fmt.Fprintf(stdout, "\npeak RSS of the process (VmHWM, every engine run so far): %s; load %s\n", hwm, benchkit.ThisMachine().LoadAvg)
	}
	ratios := benchkit.Ratios(all, *base)
	fmt.Fprintf(stdout, "\nratios %s/peer (ops/s above 1: %[1]s faster; p99 above 1: %[1]s's tail slower)\n", *base)
	if err := benchkit.WriteRatios(stdout, ratios, *base, false); err != nil {
		return err
	}
	var errs []error
	if *jsonPath != "" {
		rep := benchkit.NewReport("peerbench", all)
		errs = append(errs, writeFile(*jsonPath, func(w io.Writer) error { return rep.WriteJSONWith(w, "ratios", ratios) }))
	}
	if *mdPath != "" {
		errs = append(errs, writeFile(*mdPath, func(w io.Writer) error {
			fmt.Fprintf(w, "Compaction: %s.\n\n", compactionNote(*noCompactor, *compactEvery))
			if err := benchkit.WriteMarkdown(w, all); err != nil {
				return err
			}
			if len(summaries) > 0 {
				fmt.Fprintf(w, "\n%s.\n", strings.Join(summaries, ".\n"))
			}
			fmt.Fprintln(w, "\nRatios isledb/peer (ops/s above 1: IsleDB faster; p99 above 1: IsleDB's tail slower):")
			fmt.Fprintln(w)
			if err := benchkit.WriteRatios(w, ratios, *base, true); err != nil {
				return err
			}
			if !wantsTxn(cfg.Workloads) {
				return nil
			}
			fmt.Fprintf(w, "\nTransactions (commits/s; conflicts per transaction attempted; latency of an attempt, Begin to Commit; %d goroutines):\n\n", cfg.TxnConcurrency)
			return benchkit.WriteTxnTable(w, all, *txnPeer, true)
		}))
	}
	if *svgPath != "" {
		title := fmt.Sprintf("IsleDB (file) vs peers, %d keys %d/%d B, %d CPUs", cfg.Keys, cfg.KeySize, cfg.ValueSize, runtime.NumCPU())
		errs = append(errs, writeFile(*svgPath, func(w io.Writer) error { return benchkit.WriteSVG(w, title, all) }))
	}
	return errors.Join(errs...)
}

// compactionNote says which engines compact in the background during the run.
func compactionNote(noCompactor bool, every time.Duration) string {
	if every <= 0 {
		every = isledb.DefaultCompactorInterval
	}
	isle := fmt.Sprintf("isledb runs its Compactor (L0 threshold %d, a cycle every %v)", isledb.DefaultL0CompactionThreshold, every)
	if noCompactor {
		isle = "isledb runs none (-no-compactor)"
	}
	return isle + "; pebble, badger, goleveldb and kv compact in the background (their defaults)"
}

// wantsTxn reports whether workloads name a transaction workload.
func wantsTxn(workloads []string) bool {
	for _, w := range workloads {
		if slices.Contains(benchkit.TxnWorkloads, w) {
			return true
		}
	}
	return false
}

// peakRSS returns the process's peak resident set (VmHWM in /proc/self/status), or "" off
// Linux.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func writeFile(path string, f func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f(out); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// progress prints one line per workload, redrawn at most every half second.
func progress(w io.Writer) func(string, int) func(int) {
	return func(name string, total int) func(int) {
		start := time.Now()
		var last time.Time
		return func(done int) {
			now := time.Now()
			if done < total && now.Sub(last) < 500*time.Millisecond {
				return
			}
			last = now
			fmt.Fprintf(w, "\r%-28s %3d%% %10d/%d  %9.0f/s", name, 100*done/max(total, 1), done, total,
				float64(done)/max(now.Sub(start).Seconds(), 1e-9))
			if done >= total {
				fmt.Fprintln(w)
			}
		}
	}
}
