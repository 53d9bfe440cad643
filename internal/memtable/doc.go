// Package memtable holds the writer's recent writes in memory, sorted by (user key
// ascending, sequence descending), until they are flushed to an SST.
//
// A Memtable is a skiplist whose nodes, towers and key/value bytes are carved from large
// slabs (an arena), so an Add copies the key and value once and allocates nothing of its
// own most of the time. Adds must be serialized by the caller (the writer holds a mutex);
// any number of readers (Get, iterators) may run concurrently with the one writer without
// locks: a node is fully built before the atomic stores that link it in.
package memtable
