// Package kv is a typed key-value store on a local directory, for a single process:
// values are int64, float64, bool, string or bytes, and a Get of the wrong type fails
// with ErrTypeMismatch instead of handing back bytes to reinterpret.
//
//	s, err := kv.Open(kv.DefaultOptions("./data"))
//	if err != nil { ... }
//	defer s.Close()
//	_ = s.PutInt64([]byte("visits"), 41)
//	n, _ := s.GetInt64([]byte("visits"))
//	_ = s.ScanPrefix([]byte("user:"), func(key []byte, v kv.Value) bool { return true })
//
// # Built on the engine
//
// kv is not an engine of its own: it runs the isledb engine on a file bucket in the
// directory. Writes go to an isledb.Writer with a write-ahead log (Dir/wal); memtables
// are flushed as SSTs into the bucket (Dir/data), a Compactor merges them in the
// background (CompactionStyle), and an isledb.Reader serves what is flushed, reading
// SSTs by range straight from their files with a block cache. A read looks first in the
// writer's memtables (Writer.GetUnflushed; a scan reads them in place through
// Writer.NewUnflushedIterator, so its cost does not grow with what they hold), then in the
// reader at a manifest version holding everything the writer has flushed, so a Get right
// after a Put sees it. Values are stored in the encoding of docs/format.md ("kv value encoding").
//
// # Batches, snapshots and transactions
//
// A Batch (NewBatch, Apply) applies typed puts and deletes all-or-nothing: it is one
// batch on the engine (isledb.Writer.Apply), hence one WAL record, one memtable and one
// SST, so every read sees all of it or none, and after a crash it is wholly present or
// wholly absent.
//
//	b := s.NewBatch()
//	b.PutInt64([]byte("a"), 1)
//	b.Delete([]byte("b"))
//	err := s.Apply(b)
//
// A Snapshot (Store.Snapshot) is a consistent read view: Get, the typed gets, ScanPrefix
// and ScanRange see every write acknowledged before it was taken and none after, while
// the store keeps writing, flushing and compacting (it pins an engine manifest version,
// isledb.Reader.Snapshot, plus a copy of the writes not yet flushed). Close (or Release)
// it when done; see Snapshot for how long it stays valid.
//
// A Txn (Begin, BeginWithOptions) is an optimistic transaction on the engine's
// (isledb.Writer.Begin): it reads the store as of Begin plus its own writes, and Commit
// applies its writes as one batch unless another commit (or a plain Put, Delete or Apply)
// wrote one of its keys after Begin, in which case Commit fails with ErrConflict (which
// also matches isledb.ErrConflict) and applies nothing. TxnOptions.Serializable checks
// the keys it read and the ranges it scanned too.
//
//	for {
//		x, _ := s.Begin()
//		n, err := x.GetInt64([]byte("visits"))
//		if errors.Is(err, kv.ErrKeyNotFound) { n, err = 0, nil }
//		if err == nil { err = x.PutInt64([]byte("visits"), n+1) }
//		if err == nil { err = x.Commit() }
//		x.Rollback()
//		if !errors.Is(err, kv.ErrConflict) { break } // done, or a real error
//	}
//
// # Guarantees
//
//   - Durability: with the default WALSyncMode (WALSyncPerBatch) and with WALSyncPerWrite,
//     a Put, PutX or Delete that returned nil is on disk and survives a process kill or a
//     power cut: Open replays the log. WALSyncNone acknowledges before the log is written
//     out, so a crash may lose the latest writes (never older ones, and never corrupts).
//   - One Store per directory: Open takes an exclusive lock (Dir/LOCK, flock on Unix,
//     released by the kernel when the process dies); a second Open, in this process or
//     another, fails with ErrLocked and changes nothing.
//   - For each key the newest write wins; deletes hide older values. Scans see every write
//     acknowledged before they started. A batch or a transaction's commit is atomic: reads,
//     snapshots and recovery after a crash see all of it or none.
//   - Damage is reported, never returned as data: a block, WAL record or SST that fails
//     its checksum is an error matching ErrCorruptedData (and ErrChecksumMismatch).
//     ValidateIntegrity checks everything on disk and names each damaged object.
//
// # Differences from the design this API comes from
//
// The API follows a Go local LSM store whose package also exposed its internals
// (Memtable, SSTable, BlockBuilder, WAL, Writer, Reader, LRUCache, BloomFilter,
// DataPointer, EncodeEntry). Those parts are the engine's here and are not exported by kv;
// large values go to the engine's blob objects rather than through data pointers.
package kv
