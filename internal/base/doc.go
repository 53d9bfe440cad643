// Package base holds the few types every layer of the engine agrees on: sequence numbers,
// entry kinds, the ordering of internal keys and the corruption error.
//
// It imports nothing of ours, so that the SST format, the memtable, the manifest and the root
// package can all depend on it without cycles. Keep it small: a type belongs here only when at
// least two packages must share its exact definition (usually because it is written to disk).
package base
