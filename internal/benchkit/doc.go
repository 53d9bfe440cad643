// Package benchkit is IsleDB's whole-system benchmark kit: named workloads in the style of
// LevelDB's db_bench (fillseq, fillrandom, overwrite, readrandom warm and cold,
// readmissing, scan, readwhilewriting, tail), an Engine interface they run against (IsleDB
// here; Pebble, Badger and goleveldb in the bench module's peerbench), a log-linear
// latency histogram, object-store request and cost accounting at S3 Standard list
// prices, a simulated remote store that adds S3-like latency to any blobstore.Backend,
// and output as a text table, markdown, JSON and an SVG chart.
//
// Used by "isledb bench" (cmd/isledb) and by bench/cmd/peerbench:
//
//	cfg := benchkit.DefaultConfig()
//	cfg.Keys = 100_000
//	results, err := benchkit.Run(ctx, cfg, benchkit.IsleDBOpener(benchkit.IsleDBOptions{Backend: "memory"}))
//	benchkit.WriteTable(os.Stdout, results)
//
// Measurements: every operation is timed on its own into a Histogram (p50, p99, p99.9
// to within 1%); ops/s is operations over the workload's wall time, the final Sync
// (flush) of a write workload included. Requests are the Store's counts
// (blobstore.Stats) between the workload's start and end, so they include background
// flushes that land inside it.
package benchkit
