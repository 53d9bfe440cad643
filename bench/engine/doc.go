// Package engine compares the IsleDB engine end to end (writer, flush, reader) with
// Pebble v2 on the local file backend, with the same 1M random 16-byte keys and 100-byte
// values (about 50% compressible) for both.
//
// One benchmark run measures everything (each benchmark does its whole workload once per
// iteration, so use -benchtime 1x; ns/op is overridden with the per-operation figure):
//
//	cd bench && go test ./engine -run '^$' -bench . -benchtime 1x -count 1 -timeout 30m
//
// The markdown report (isledb vs pebble with ratios, best of ISLEDB_BENCH_REPEAT runs,
// default 3) is a test, skipped unless asked for:
//
//	cd bench && ISLEDB_BENCH_REPORT=1 go test ./engine -run TestEngineReport -v -count 1 -timeout 30m
//
// Setup, so that the comparison is like for like:
//   - IsleDB: blobstore.NewFile over a temp dir; the writer with DefaultWriterOptions
//     (64 MiB memtable, 1 s FlushInterval, snappy, 10 bloom bits per key, 4 KiB blocks).
//   - Pebble: Set with NoSync; WAL on ("pebble-wal") or DisableWAL ("pebble-nowal");
//     MemTableSize 64 MiB like IsleDB (Pebble's default is 4 MiB), a 10-bit bloom filter
//     on every level (Pebble's default is none), otherwise defaults (snappy, 4 KiB blocks,
//     FormatMajorVersion default; ISLEDB_BENCH_PEBBLE_FORMAT=newest selects FormatNewest).
//   - Reads: IsleDB ReaderOpenOptions{CacheDir, BlockCacheSize: 256 MiB} vs Pebble with a
//     256 MiB block cache, after a warm-up pass (a full scan) that puts every block in the
//     cache. The IsleDB read data set is written with FlushInterval -1, so it is three
//     full-memtable L0 SSTs (this harness runs no IsleDB compactor; benchkit, peerbench
//     and "isledb bench" do, see docs/benchmarks.md); Pebble's is flushed and compacted
//     (its steady state).
//
// ISLEDB_BENCH_DIR sets where the temp data goes (default: os.TempDir()).
package engine
