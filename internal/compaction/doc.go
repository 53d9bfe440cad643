// Package compaction is the machinery of IsleDB's compactors: choosing what to merge
// (Pick*), and merging SSTs that live in a bucket into new ones (Run), streaming.
//
// # Planning
//
// PickL0 and PickRuns are pure functions of a manifest. PickL0 takes the L0 SSTs once there
// are at least a threshold of them; PickRuns takes a window of consecutive sorted runs whose
// sizes are similar (the largest at most SizeThreshold times the smallest) and chooses, among
// the qualifying windows, the one that removes runs most cheaply (fewest bytes rewritten per
// run removed). A plan knows whether its output will be the oldest data for its key range
// (Plan.Bottom): only then may tombstones and expired entries be dropped.
//
// # Merging
//
// Run reads its inputs front to back, each through a source that fetches large chunks by
// ranged GETs and prefetches the next chunk while the current one is consumed, merges them
// with mergeiter in ModeNewest (the newest version of each key, whatever its kind), and
// writes the result into SSTs of about TargetSize, cut between keys (every key has exactly
// one entry in the output, so any cut is at a key boundary). Each finished output is uploaded
// while the next is built. Memory is bounded by two chunks per input SST being read, the open
// SSTs' index and filter, and two output SSTs (one building, one uploading), whatever the
// size of the inputs.
//
// With Options.VerifyChecksums, each input's chunks are hashed in file order, the rest of the
// file is read once its entries are exhausted, and the SHA-256 must match the manifest's
// checksum before Run succeeds: a damaged input fails the compaction instead of being
// rewritten under a fresh checksum.
//
// Run uploads outputs but publishes nothing: the caller appends the manifest entry that swaps
// inputs for outputs, and deletes the outputs if it cannot. Result.Attempted lists every
// output Run tried to upload, including ones whose upload failed (they may exist anyway).
//
// BlobRefs lists the blob references of one SST, for blob garbage collection.
package compaction
