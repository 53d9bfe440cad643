// Package manifest keeps the state of an IsleDB database, which SSTs exist and how they
// are arranged, as a log of edits in the bucket, and runs the protocol that lets one
// writer, one compactor and any number of readers share it without a coordinator.
//
// # The log
//
// The manifest is a log of entries, "manifest/log/<seq:020d>" under the store's prefix.
// Entry N is created put-if-absent, by an appender that has read entries 1..N-1; losing
// the race for the slot means somebody else appended: the appender reads the new entries,
// checks its fence again, and retries at the new end. Entries are hash-chained: each names
// the hash of the one before it. Every entry is written once and never changed.
//
// A snapshot, "manifest/snapshot/<seq:020d>", holds the whole manifest as of entry seq.
// An appender writes one when StoreOptions.SnapshotEvery entries follow the newest one.
// Replay lists the snapshots (a short listing: old ones are pruned), loads the newest and
// applies the entries after it: one LIST, one GET, and one GET per entry since that
// snapshot, the snapshot and the first slots read concurrently. Once a snapshot is older than StoreOptions.PruneGrace, the log entries below
// it and the older snapshots are deleted.
//
// # Fences
//
// ClaimWriter and ClaimCompactor append a claim with a new epoch (Manifest.NextEpoch).
// Every append is made under the fence of its role and fails with ErrFenced once the Store
// sees a newer claim of that role, so a writer or compactor that was replaced (a "zombie")
// can never change the manifest again. Of two racing claims of one role, one wins and the
// other gets ErrFenceConflict. Replay ignores any entry whose epoch is not its role's
// current one.
//
// # Pruned slots
//
// A deleted log slot can be created again: a zombie paused across a new claim, a snapshot
// and a prune may, when it resumes, win the put-if-absent of a slot that had been pruned.
// The Store never acknowledges such an append. Pruning deletes only entries below a
// snapshot (keeping the snapshot's own entry), so after its entry lands the appender lists
// the snapshots: if none lies beyond the slot, the slot was never pruned and the entry is
// the log's. Otherwise it reloads and compares hashes with the verified log; an entry that
// is not the log's is invisible (replay starts at the newer snapshot), and the retry finds
// the claim that fenced the zombie. The listing is skipped when the Store knew the end of
// the log less than PruneGrace/2 before the create's reply: no prune can have reached the
// slot in that time (confirm.go), so an append usually costs one request. Readers tell
// the end of the log from a pruned slot with the same facts. docs/format.md ("Manifest log and snapshots") gives the argument in full.
//
// # Use
//
//	ms := manifest.NewStore(store) // the bucket's manifest
//	tok, err := ms.ClaimWriter(ctx, "writer-1")
//	...
//	entry, err := ms.AppendAddSSTableWithFence(ctx, meta) // durable and visible on success
//	m, err := ms.Replay(ctx)                              // the current manifest
//	m, err = ms.ReplayFrom(ctx, m)                        // poll: one GET when nothing is new
//
// GCMarkStorage keeps the garbage collector's pending delete marks and checkpoint
// ("gc/marks", "gc/checkpoint") with compare-and-swap. Storage and GCMarkStorage have
// bucket-backed implementations (NewBlobStorage, NewBlobGCMarkStorage); their doc
// comments say what another implementation must guarantee.
//
// Errors are the sentinels of errors.go, wrapped with context; bytes that do not decode
// give errors matching ErrCorruption (never a panic). A Store is safe for concurrent use.
package manifest
