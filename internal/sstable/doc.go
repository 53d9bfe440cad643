// Package sstable reads and writes IsleDB's SST files: immutable, sorted files of key-value
// entries that live in object storage.
//
// An SST holds entries ordered by user key ascending and, for equal keys, by sequence number
// descending, so the newest version of a key comes first. Each entry carries a kind (value,
// tombstone or blob reference) and an optional expiry time. The file is a run of data
// blocks (prefix-compressed keys with restart points, optionally compressed with snappy, zstd
// or lz4), a bloom filter over the user keys, an index with one separator per data block, a
// properties block and a fixed 64-byte footer. format.go and docs/format.md describe every
// byte; the format is versioned (this package writes version 1) and its constants are
// frozen.
//
// # Writing
//
//	w, err := sstable.NewWriter(dst, sstable.WriterOptions{Compression: "zstd"})
//	for _, e := range entries { // sorted: key asc, seq desc
//		if err := w.Add(e); err != nil { ... }
//	}
//	meta, err := w.Finish() // meta.Checksum is "sha256:<hex>" of the whole file
//
// # Reading
//
// A Reader works over any Source: a byte slice (OpenBytes, no reads at all), a local file
// (NewFileSource) or a bucket object through an adapter that maps ReadAt to a ranged GET.
// Open issues one read of the file's tail, two at most, and keeps the filter and index in
// memory; after that a point lookup reads at most one data block, and none if the block is
// in the BlockCache. Iterators read runs of adjacent blocks with one read when they scan.
//
//	r, err := sstable.Open(ctx, src, sstable.ReaderOptions{Object: name, Cache: cache})
//	e, found, err := r.Get(ctx, key)          // newest version of key
//	it := r.NewIter(ctx, sstable.IterOptions{Lower: a, Upper: b})
//	for ok := it.First(); ok; ok = it.Next() { ... it.Key(), it.Seq(), it.Kind(), it.Value() }
//	err = it.Close()
//
// # Guarantees
//
// Every block is protected by a CRC-32C that is verified before its bytes are used, and the
// footer by its own. No byte of a file lies outside a checksummed region, so every damaged
// byte is detected: by Open (footer and meta blocks), by the lookup that reads the damaged
// data block, or by Verify, which reads everything. Damage is reported as an error matching
// base.ErrCorruption that names the object and offset; no input makes the package panic.
//
// Readers and caches are safe for concurrent use; Writers and Iterators are not.
package sstable
