// Package gc is the garbage collector of an IsleDB bucket: the deferred deletion of SST
// objects out of the manifest (collector.go), blob GC and the writers' side of its
// protocol (blob.go), the deletion of bucket WAL objects (wal.go), and the GC state
// objects gc/marks and gc/checkpoint with their codecs (marks.go, checkpoint.go) and the
// one load-modify-CAS loop that updates them (state.go). The root package's compactors
// own a Collector and run its passes; its writers call ClaimBlobs during flushes.
//
// Deferred deletion and blob garbage collection.
//
// A compaction (merge or retention) never deletes what it removes from the manifest: readers
// on an older manifest version may still be reading it. Before its manifest entry is appended
// it records each input in the pending delete marks ("gc/marks", through GCMarkStorage) as an
// intent; a GC pass later notes the time it first sees the SST out of the manifest, and
// deletes the object once that time is GCGracePeriod old. SST objects that no manifest
// names (orphans: outputs of a compaction that failed or crashed, flushes whose manifest
// append never happened) are marked when first seen and deleted the same way, provided the
// object itself is older than the grace period too. A GC pass:
//
//  1. loads the marks, then replays the manifest (and checks the compactor fence: a fenced
//     compactor deletes nothing), then lists "sst/";
//  2. drops the marks of SSTs that are live (an intent whose compaction failed, an orphan
//     that was an in-flight flush) or already gone from the bucket;
//  3. stamps intents whose SST is out of the manifest with the time now, and marks every
//     unmarked object that is out of the manifest as an orphan, stamped now — except an SST
//     of the current writer's epoch above the manifest's largest sequence number, which is
//     a flush in flight;
//  4. deletes the objects whose stamp and modification time are both a grace period old,
//     and stores the marks (compare-and-swap; on a conflict the pass starts over).
//
// Every stamp is taken after the SST left the manifest, so an object is deleted at least a
// grace period after any manifest naming it stopped being current. A crash anywhere leaves
// marks and objects that the next pass completes: deletes are idempotent, and marks of
// objects already gone are dropped. The assumption is that a flush appends its SST to the
// manifest within the grace period of uploading it (the writer re-uploads on every retry),
// and that clocks agree to well within the grace period.
//
// Blob GC (BlobGC.Enabled) is a mark-then-sweep serialized with the writers through the GC
// checkpoint; its protocol and the argument for its safety are in blob.go.
//
// Damaged marks (or a damaged checkpoint) never stop GC: they are set aside, replaced by
// CAS with an empty state, and every SST out of the manifest is marked again, stamped at
// the repair, so nothing is deleted less than a grace period after it (see "Damaged GC
// state" in state.go).
package gc
