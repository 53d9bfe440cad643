// Package sstable benchmarks IsleDB's SST format (internal/sstable) against Pebble's
// sstable package on the same data: one million entries of 16-byte keys and 100-byte values
// that compress to about half, written with 4 KiB blocks and 10-bit bloom filters.
//
// Run everything in one go, so that the ratios come from the same machine state:
//
//	cd bench && go test -run x -bench . -benchtime 3x ./sstable/
//
// Benchmarks (each with sub-benchmarks isledb, pebble-row and pebble-col, the latter two
// being Pebble's row-oriented (TableFormatPebblev4) and columnar (TableFormatPebblev5)
// layouts):
//
//   - Build/<compression>/<impl>: write the whole table into memory. MB/s counts raw key
//     and value bytes; file-bytes reports the file size.
//   - Get/<impl>: point lookup of a present key, every block already in the block cache.
//   - GetAbsent/<impl>: point lookup of a key inside the table's range that it lacks.
//   - Scan/<impl>: iterate over every entry with a warm block cache; MB/s of raw bytes.
package sstable
