// Package wal is a durable write-ahead log: append-only, sequence-numbered entries kept in
// segment files on a local disk, organized in independent named streams.
//
// It is what IsleDB uses to make writes durable before they reach object storage, and a
// library in its own right for anything that needs an ordered, crash-safe log: a replicated
// state machine's log, an event journal, a queue's backing store.
//
// # Concepts
//
// A WAL lives in one root directory and holds any number of streams. A stream is a sequence
// of entries (byte slices) numbered 0, 1, 2, ... by SeqNum; streams are created on first
// append and are fully independent. Each stream is stored as a directory of segment files;
// the last segment is active (appended to) and the others are sealed (immutable). Segments
// rotate when they reach MaxSegmentSize bytes or MaxEntriesPerSegment entries.
//
// # Use
//
//	w, err := wal.Open(wal.DefaultOptions("/var/lib/app/wal"))
//	if err != nil { ... }
//	defer w.Close()
//
//	id, err := w.Append("events", []byte("created"))               // one entry
//	r, err := w.AppendBatch("events", [][]byte{a, b, c})            // atomic batch
//	tx := w.Writer("events"); tx.Add(a); tx.Add(b); r, err = tx.Commit() // same, built up
//
//	e, err := w.Get("events", id)          // one entry, or ErrNotFound
//	it, err := w.Iter("events", 0)         // every entry from 0 on
//	for it.Next() { use(it.ID(), it.Entry()) }
//	err = it.Err(); it.Close()
//
//	n, err := w.Truncate("events", upTo)   // drop whole segments entirely below upTo
//
// Sharded (NewSharded) spreads entries over a fixed number of streams by key hash and takes
// consistent, checksummed checkpoints of every shard's position, for systems that snapshot
// their state and replay the log from the snapshot on.
//
// # Durability
//
// What an acknowledged append survives depends on Options.SyncMode:
//
//   - SyncStrict (the default): Append, AppendBatch and TxnWriter.Commit return only after
//     the entries are written and fsynced (fdatasync on Linux). An acknowledged entry
//     survives a process crash, a kernel crash and a power cut (given a disk that honors
//     flushes). Concurrent appenders to one stream share fsyncs (group commit): with N
//     appenders one fsync typically carries N entries, so throughput scales with
//     concurrency while each call still waits for its own entry to be durable.
//   - SyncBatchOnly: AppendBatch and Commit are fsynced as above, and make every earlier entry
//     of the stream durable too. A single Append only goes to the in-memory write buffer;
//     it becomes durable with the next batch, rotation, Sync or Close, and may be lost in any
//     crash before that.
//   - SyncAsync: nothing is fsynced on append. Entries go to the write buffer, are written
//     to the operating system when it fills, and are fsynced only on segment rotation, Sync
//     and Close. A process crash loses at most the buffered entries; a power cut may lose
//     more.
//
// In every mode a batch is atomic (after any crash it is entirely present or entirely
// absent), recovery never exposes a torn entry, and sequence numbers never go backwards or
// get reused. Sealed segments are always fsynced, so loss is confined to the tail.
//
// # Recovery
//
// Open scans the active segment of each stream and keeps every complete commit unit. A
// torn or corrupt tail (a crash mid-write, flipped bits, trailing garbage, a batch missing
// its last record) is cut off under OnCorruptionTruncate (the default, logged), or reported
// as a *CorruptionError or *CRCMismatchError with the file and offset under
// OnCorruptionError. OnCorruptionTruncateTornTail tells the two apart: it cuts a torn tail
// (nothing after the first bad record passes its checksum) but fails with a
// *MidLogCorruptionError when valid records follow the damage, since cutting there would
// silently drop them. Sealed segments are verified when first read; corruption there is
// always reported, never silently cut. Every record carries a CRC-32C that also covers its
// sequence number.
//
// # Concurrency
//
// All WAL and Sharded methods are safe for concurrent use. Appends to one stream are
// serialized; different streams proceed in parallel. Reads do not block appends except
// briefly. An Iterator is for one goroutine. Only one process may open a root directory at
// a time (an advisory lock enforces it where the platform has one).
//
// The on-disk format is described byte by byte in format.go and docs/format.md.
package wal
