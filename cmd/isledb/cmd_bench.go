package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"

	"github.com/isledb/isledb"
	_ "github.com/isledb/isledb/blobstore" // registers the s3:// opener
	"github.com/isledb/isledb/internal/benchkit"
	"github.com/isledb/isledb/internal/cli"
)

// runBench runs the benchkit workloads against IsleDB on one backend and prints a table
// (and optionally JSON, markdown and SVG).
func runBench(args []string) error {
	return benchMain(args, os.Stdout, os.Stderr)
}

func benchMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := benchkit.DefaultConfig()
	keys := fs.Int("keys", def.Keys, "keys in the data set")
	keySize := fs.Int("key-size", 16, "bytes per key (at least 8)")
	valueSize := fs.Int("value-size", 100, "bytes per value (about half compressible)")
	profile := fs.String("profile", "default", `"default" (16-byte keys, 100-byte values, as db_bench) or "slatedb" (20-byte keys, 400-byte values, as SlateDB's published runs); -key-size and -value-size override`)
	reads := fs.Int("reads", 0, "Gets of readrandom and readmissing (default keys/2)")
	coldReads := fs.Int("cold-reads", 0, "Gets of readrandom-cold (default min(reads, 2000))")
	scans := fs.Int("scans", 0, "scans of 100 keys (default max(keys/100, 100))")
	tailSamples := fs.Int("tail-samples", def.TailSamples, "writes timed by the tail workload")
	conc := fs.Int("concurrency", 1, "goroutines issuing operations")
	workloads := fs.String("workloads", strings.Join(benchkit.Workloads, ","), "comma-separated workloads to run")
	backend := fs.String("backend", "memory", "memory, file, sim-s3 (memory with simulated S3 latency) or s3")
	dir := fs.String("dir", "", "directory of the file bucket and the readers' caches (default: a temporary directory, removed)")
	bucketURL := fs.String("url", "", `bucket URL of the s3 backend, e.g. "s3://bucket?region=us-east-1"`)
	endpoint := fs.String("endpoint", "", "S3-compatible endpoint (e.g. http://127.0.0.1:9000 for MinIO): sets -url to s3://BUCKET on it, path style, plain HTTP")
	bucket := fs.String("bucket", "isledb-test", "bucket name with -endpoint")
	flushInterval := fs.Duration("flush-interval", isledb.DefaultFlushInterval, "writer flush interval")
	memtable := fs.Int64("memtable-size", isledb.DefaultMemtableSize, "writer memtable size in bytes")
	compression := fs.String("compression", isledb.DefaultCompression, "SST compression: none, snappy, zstd or lz4")
	blockCache := fs.Int64("block-cache", isledb.DefaultBlockCacheSize, "reader block cache in bytes")
	sstCache := fs.Int64("sst-cache", isledb.DefaultSSTCacheSize, "reader SST disk cache in bytes")
	prefetch := fs.Int64("prefetch-on-refresh", isledb.DefaultPrefetchOnRefreshBytes, "bytes of new SSTs a reader's Refresh prefetches in the background (0: none)")
	noFill := fs.Bool("no-background-fill", false, "keep SSTs read by range out of the SST disk cache (DisableSSTBackgroundFill)")
	tailPoll := fs.Duration("tail-poll", 10*time.Millisecond, "how often the tailer polls the manifest in the tail workload")
	simGet := fs.String("sim-get", "25ms,70ms", "sim-s3: GET/HEAD first-byte latency p50,p99 (log-normal)")
	simPut := fs.String("sim-put", "25ms,70ms", "sim-s3: PUT/DELETE latency p50,p99 (log-normal)")
	simBW := fs.Float64("sim-bandwidth", 100, "sim-s3: MB/s of one request's payload")
	jsonPath := fs.String("json", "", "write the results as JSON to this file")
	mdPath := fs.String("markdown", "", "write the results as a markdown table to this file")
	svgPath := fs.String("svg", "", "write a chart of throughput and p99 to this SVG file")
	createBucket := fs.Bool("create-bucket", false, "s3: create the bucket first if it does not exist (for a fresh MinIO)")
	quiet := fs.Bool("quiet", false, "no progress bars")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	compactEvery := fs.Duration("compactor-interval", 0, "the compactor's CheckInterval (default: IsleDB's, 5s)")
	noCompactor := fs.Bool("no-compactor", false, "run no compactor (by default each instance runs IsleDB's Compactor in the background)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch *profile {
	case "default":
	case "slatedb":
		if !set["key-size"] {
			*keySize = 20
		}
		if !set["value-size"] {
			*valueSize = 400
		}
	default:
		return fmt.Errorf("unknown -profile %q (want default or slatedb)", *profile)
	}
	if *endpoint != "" {
		if *backend != "s3" {
			*backend = "s3"
		}
		q := url.Values{"endpoint": {*endpoint}, "use_path_style": {"true"}, "region": {"us-east-1"}}
		if strings.HasPrefix(*endpoint, "http://") {
			q.Set("disable_https", "true")
		}
		*bucketURL = "s3://" + *bucket + "?" + q.Encode()
	}
	var sim benchkit.SimOptions
	var err error
	if *createBucket && *backend == "s3" {
		if err := createS3Bucket(*bucketURL); err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
	}
	if sim.Get, err = parseLatency(*simGet); err != nil {
		return fmt.Errorf("-sim-get: %w", err)
	}
	if sim.Put, err = parseLatency(*simPut); err != nil {
		return fmt.Errorf("-sim-put: %w", err)
	}
	sim.Bandwidth = *simBW * 1e6

	cfg := benchkit.Config{
		Keys: *keys, KeySize: *keySize, ValueSize: *valueSize, Reads: *reads, ColdReads: *coldReads,
		Scans: *scans, TailSamples: *tailSamples, Concurrency: *conc,
	}
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
		cfg.Progress = func(name string, total int) func(int) {
			p := cli.NewRateProgress(stderr, name, total)
			return p.Update
		}
	}
	wopts := isledb.WriterOptions{FlushInterval: *flushInterval, MemtableSize: *memtable, Compression: *compression}
	wopts.EnsureDefaults()
	if err := wopts.Validate(); err != nil {
		return err
	}
	ropts := isledb.DefaultReaderOpenOptions()
	ropts.BlockCacheSize, ropts.SSTCacheSize = *blockCache, *sstCache
	ropts.PrefetchOnRefreshBytes, ropts.DisableSSTBackgroundFill = *prefetch, *noFill
	var summaries []string // one per instance, as it closes
	op, cleanup, err := benchkit.IsleDBOpener(benchkit.IsleDBOptions{
		Backend: *backend, Dir: *dir, URL: *bucketURL, Sim: sim,
		Writer: wopts, Reader: ropts, TailPoll: *tailPoll, NoCompactor: *noCompactor, Compactor: isledb.CompactorOptions{CheckInterval: *compactEvery},
		OnClose: func(s benchkit.IsleDBSummary) { summaries = append(summaries, s.String()) },
	})
	if err != nil {
		return err
	}
	defer cleanup()

	fmt.Fprintf(stdout, "isledb bench: backend %s, %d keys of %d B, values of %d B, concurrency %d, flush interval %v, memtable %d MiB, %s, %s\n",
		*backend, cfg.Keys, cfg.KeySize, cfg.ValueSize, cfg.Concurrency, *flushInterval, *memtable>>20, *compression, compactorNote(*noCompactor))
	if *backend == "sim-s3" {
		fmt.Fprintf(stdout, "simulated S3: GET %v p50 / %v p99, PUT %v p50 / %v p99, %.0f MB/s per request\n",
			sim.Get.P50, sim.Get.P99, sim.Put.P50, sim.Put.P99, sim.Bandwidth/1e6)
	}
	fmt.Fprintln(stdout)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	results, err := benchkit.Run(context.Background(), cfg, op)
	if len(results) > 0 {
		fmt.Fprintln(stdout)
		if werr := benchkit.WriteTable(stdout, results); werr != nil {
			return werr
		}
		fmt.Fprintln(stdout, "\nrequests per 1,000 ops (compaction's included); up B/B = bytes uploaded per key+value byte written; $/Mop = request cost of a million ops at S3 Standard list prices")
		for _, line := range summaries {
			fmt.Fprintln(stdout, line)
		}
	}
	if err != nil {
		return err
	}
	return writeOutputs(results, *jsonPath, *mdPath, *svgPath, "isledb bench ("+*backend+")")
}

// writeOutputs writes the optional JSON, markdown and SVG files.
func writeOutputs(results []benchkit.Result, jsonPath, mdPath, svgPath, title string) error {
	var errs []error
	if jsonPath != "" {
		errs = append(errs, benchkit.NewReport("isledb bench", results).WriteJSONFile(jsonPath))
	}
	write := func(path string, f func(io.Writer) error) {
		if path == "" {
			return
		}
		out, err := os.Create(path)
		if err != nil {
			errs = append(errs, err)
			return
		}
		errs = append(errs, f(out), out.Close())
	}
	write(mdPath, func(w io.Writer) error { return benchkit.WriteMarkdown(w, results) })
	write(svgPath, func(w io.Writer) error { return benchkit.WriteSVG(w, title, results) })
	return errors.Join(errs...)
}

// parseLatency parses "P50,P99".
func parseLatency(s string) (benchkit.Latency, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return benchkit.Latency{}, fmt.Errorf("%q: want p50,p99 such as 25ms,70ms", s)
	}
	p50, err := time.ParseDuration(strings.TrimSpace(a))
	if err != nil {
		return benchkit.Latency{}, err
	}
	p99, err := time.ParseDuration(strings.TrimSpace(b))
	if err != nil {
		return benchkit.Latency{}, err
	}
	if p50 <= 0 || p99 < p50 {
		return benchkit.Latency{}, fmt.Errorf("%q: want 0 < p50 <= p99", s)
	}
	return benchkit.Latency{P50: p50, P99: p99}, nil
}

// createS3Bucket creates the bucket of an s3:// URL, succeeding if it exists.
func createS3Bucket(bucketURL string) error {
	ctx := context.Background()
	bkt, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return err
	}
	defer bkt.Close()
	var c *s3.Client
	if !bkt.As(&c) {
		return errors.New("not an S3 bucket")
	}
	u, err := url.Parse(bucketURL)
	if err != nil {
		return err
	}
	name := u.Host
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name})
	if err != nil && (strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") || strings.Contains(err.Error(), "BucketAlreadyExists")) {
		err = nil
	}
	return err
}

// compactorNote says whether the run compacts.
func compactorNote(off bool) string {
	if off {
		return "no compactor"
	}
	return "compactor on (DefaultCompactorOptions, in the background)"
}
