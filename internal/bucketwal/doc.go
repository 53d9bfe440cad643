// Package bucketwal is the writer's write-ahead log in the bucket: group-committed WAL
// objects ("wal/<position:020d>.wal"), so that an acknowledged write survives the loss of
// the writer's machine without waiting for a memtable flush.
//
// # Objects
//
// A WAL object (object.go) holds the records of one group commit, opaque to this package
// (the isledb writer's WAL records, with the writer's fence epoch), and names the position
// in the object chain it was written at. Positions are consecutive across writers: a writer
// writes position p+1 only after p landed, one PUT at a time, each with put-if-absent, so
// of two writers trying the same position exactly one wins.
//
// # Fencing
//
// A new writer claims the role in the manifest and then calls Fence: it lists the chain,
// and writes a fence object (no records, its own epoch) at the position after the last
// one, taking the next position whenever the old writer got there first (that object is
// then part of what it recovers). Once the fence lands, the old writer can no longer
// append: its next position is taken, its put-if-absent fails, and reading the object back
// shows another writer's bytes, so its Committer stops with an error wrapping
// manifest.ErrFenced. Every object the old writer did land is before the fence and
// returned by Fence for replay.
//
// # Group commit
//
// A Committer (committer.go) collects records in order and writes them with at most one
// PUT in flight: when a PUT starts it takes every record added so far (up to
// Options.MaxObjectSize), and while it is in flight the next group accumulates. There is
// no timer: a lone write is sent at once, in one round trip; under load, groups grow to
// whatever arrived during the previous PUT. A record is durable once its object landed,
// or once the manifest covers it (Covered); Wait waits for that.
//
// # Coverage and GC
//
// Each object records CoveredBelow: the writer knew, when it wrote the object, that every
// record at a lower position is in the manifest (flushed to an SST), so GC may delete
// those objects (after a grace period), always keeping the newest object so that the chain's
// next position stays known.
package bucketwal
