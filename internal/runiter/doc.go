// Package runiter iterates a sorted run: a sequence of SSTs whose key ranges do not overlap,
// in key order, read as one sequence in internal order, opening one SST at a time.
//
// The reader (internal/tablecache, through its cache of open SSTs) and compaction
// (internal/compaction, streaming its inputs from the bucket) both read runs this way; they
// differ only in how an SST is opened and what happens when the iterator leaves it, which
// they describe with a Source.
package runiter
