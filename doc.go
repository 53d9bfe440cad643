// Package isledb is an embedded key-value engine whose data lives in object storage
// (S3, GCS, Azure Blob, MinIO, or a local directory).
//
// One Writer per bucket prefix buffers writes in an in-memory memtable and flushes them as
// immutable SST files; each flush is one PUT of an SST (plus one per large value, written
// as a content-addressed blob) and one manifest log entry. Any number of Readers attach to
// the same prefix, replay the manifest, and fetch SSTs and blobs on demand through local
// caches, so read capacity scales out without replicas. Compactors merge or expire SSTs
// in the background.
//
//	store, _ := blobstore.NewFile(ctx, "./data", "db1")
//	db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
//	w, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
//	_ = w.Put([]byte("hello"), []byte("world"))
//	_ = w.Flush(ctx) // now in the bucket and visible to readers
//	r, _ := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: "./cache"})
//	v, ok, _ := r.Get(ctx, []byte("hello"))
//
// # Guarantees
//
//   - A write is durable once Flush returns (or an automatic flush covering it lands):
//     its SST and blobs are in the bucket and the manifest entry naming them is committed.
//     Writes not yet flushed live only in the writer's memory (and its WALDir, if set).
//   - With WriterOptions.BucketWAL, a write is also durable once Writer.Sync returns (or,
//     with BucketWALEachWrite, once Put returns): it is in a group-committed WAL object in
//     the bucket, and a writer opened later on any machine replays it. A fenced writer's
//     Sync fails and what it writes afterwards never appears. Readers with
//     ReaderOpenOptions.ReadBucketWAL see such writes before their flush.
//   - Opening a Writer claims the writer fence. A writer that has been fenced by a newer
//     one publishes nothing more: its operations fail with an error wrapping
//     manifest.ErrFenced.
//   - Readers see a consistent manifest version; Refresh moves to the newest one. An
//     Iterator keeps the version it started on.
//   - For each key the write with the highest sequence number wins. Deletes hide older
//     values; so do expired TTLs.
//   - Writer.Apply applies a Batch all-or-nothing: its writes are one WAL record and land
//     in one SST and one manifest entry, so every reader, tailing reader and change feed
//     sees all of a batch or none of it, and a crash leaves it whole or absent.
//   - Reader.Snapshot pins the reader's manifest version: its reads ignore later
//     Refreshes, flushes and compactions, and are guaranteed within GCGracePeriod of the
//     Refresh that loaded the version (see Snapshot).
//   - Writer.Begin starts an optimistic transaction (Txn): it reads the database as of
//     Begin plus its own writes and commits them as one batch, or fails with ErrConflict
//     when another commit wrote a key it wrote (snapshot isolation; with
//     TxnOptions.Serializable also a key it read or scanned) after it began.
//
// # TTL
//
// PutWithTTL writes a value that is invisible to every read once ttl has passed (the
// writer's clock, as unix time in the entry). DeleteWithTTL writes a tombstone that hides
// older values at once, like Delete; its ttl says how long the tombstone itself must be
// kept: once it has passed, compaction may drop the tombstone together with every older
// version of the key it hides, so the key stays deleted.
package isledb
