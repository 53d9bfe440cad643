// Package internal holds the few types the public API returns from IsleDB's machinery,
// such as the blob cache's statistics (Reader.BlobCacheStats).
package internal

import "fmt"

// BlobCacheStats counts the work of a reader's blob cache.
type BlobCacheStats struct {
	Hits      int64 // reads served from the cache
	Misses    int64 // reads that fetched the blob from the bucket
	Puts      int64 // blobs stored in the cache
	Evictions int64 // blobs evicted to stay within the capacity
	Rejected  int64 // blobs not cached because they exceed the maximum item size
	Bytes     int64 // bytes the cache holds now
	Items     int64 // blobs the cache holds now

	// The fields the original isledb's BlobCacheStats has, for code written against it.
	Size       int64 // bytes the cache holds now (Bytes)
	MaxSize    int64 // the cache's capacity (ReaderOpenOptions.BlobCacheSize)
	EntryCount int64 // blobs the cache holds now (Items)
}

// String formats the counts on one line.
func (s BlobCacheStats) String() string {
	return fmt.Sprintf("hits %d, misses %d, puts %d, evictions %d, rejected %d, %d items, %d bytes",
		s.Hits, s.Misses, s.Puts, s.Evictions, s.Rejected, s.Items, s.Bytes)
}
