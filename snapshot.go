package isledb

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isledb/isledb/manifest"
)

// Snapshot is a consistent read view of the database: the reader's manifest version when
// the snapshot was taken, hence every write up to one sequence number (Seq) and none after.
// Refresh, new flushes, compaction and GC do not move it; expiry is judged at the time the
// snapshot was taken, so a TTL write visible in the snapshot stays visible in it. A Snapshot
// is safe for concurrent use. Close it when done.
//
// Validity. A snapshot reads the SSTs of its version. Compaction removes SSTs from the
// manifest, and GC deletes a removed SST from the bucket GCGracePeriod (default 10 minutes)
// after the last manifest naming it stopped being current (docs/compaction.md); blob GC
// keeps blobs while an SST naming them is in the bucket. So every read of a snapshot is
// guaranteed to succeed within GCGracePeriod of the Refresh (or OpenReader) that loaded the
// snapshot's version, in this process or any other (GC has no lease from remote readers).
// Later, a read that needs a removed SST the reader no longer has on disk, or a blob of
// it, may fail with an error wrapping blobstore.ErrNotFound; take a fresh snapshot then.
// While a snapshot is open its reader keeps the SSTs it uses open and cached (Refresh does
// not drop them), so reads already cached keep working past that limit unless the cache
// evicts them for space (ReaderOpenOptions.SSTCacheSize).
type Snapshot struct {
	r      *Reader
	m      *manifest.Manifest
	now    int64 // unix nanoseconds: expiry is judged at this time
	closed atomic.Bool
}

// snapshotSet tracks a reader's open snapshots, whose SSTs Refresh keeps cached.
type snapshotSet struct {
	mu   sync.Mutex
	open map[*Snapshot]struct{}
}

// Snapshot returns a read view at the reader's current manifest version (Refresh first to
// see the newest writes). It fails with ErrClosed once the reader is closed.
func (r *Reader) Snapshot() (*Snapshot, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	s := &Snapshot{r: r, now: time.Now().UnixNano()}
	// Taken and registered under the set's lock: a Refresh storing a newer version either
	// ran before (s gets the newer version) or sees s when it drops the SSTs it left.
	r.snaps.mu.Lock()
	s.m = r.cur.Load()
	if r.snaps.open == nil {
		r.snaps.open = map[*Snapshot]struct{}{}
	}
	r.snaps.open[s] = struct{}{}
	r.snaps.mu.Unlock()
	return s, nil
}

// evictUnused drops from the table cache the SSTs of ids that neither the reader's current
// version nor an open snapshot uses.
func (r *Reader) evictUnused(ids []string) {
	if len(ids) == 0 {
		return
	}
	used := map[string]struct{}{}
	r.snaps.mu.Lock()
	for _, id := range r.cur.Load().AllSSTIDs() {
		used[id] = struct{}{}
	}
	for s := range r.snaps.open {
		for _, id := range s.m.AllSSTIDs() {
			used[id] = struct{}{}
		}
	}
	r.snaps.mu.Unlock()
	for _, id := range ids {
		if _, ok := used[id]; !ok {
			r.tables.Evict(id)
		}
	}
}

func (s *Snapshot) usable() error {
	if s.closed.Load() || s.r.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Seq returns the snapshot's sequence number: it sees every write up to it (the largest
// sequence number of its manifest version) and none after.
func (s *Snapshot) Seq() uint64 { return s.m.MaxSeqNum() }

// Manifest returns a copy of the snapshot's manifest version.
func (s *Snapshot) Manifest() *Manifest { return s.m.Clone() }

// Get returns the value of key in the snapshot, as Reader.Get does.
func (s *Snapshot) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	if err := s.usable(); err != nil {
		return nil, false, err
	}
	return s.r.get(ctx, s.m, s.now, key)
}

// NewIterator returns an iterator over the snapshot, as Reader.NewIterator does. It keeps
// working after the snapshot is closed, until it is closed itself.
func (s *Snapshot) NewIterator(ctx context.Context, opts IteratorOptions) (*Iterator, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	return s.r.newIterator(ctx, s.m, s.now, opts)
}

// Scan returns every pair of the snapshot with minKey <= key <= maxKey (nil bounds are
// unbounded), in key order.
func (s *Snapshot) Scan(ctx context.Context, minKey, maxKey []byte) ([]KV, error) {
	return s.ScanLimit(ctx, minKey, maxKey, 0)
}

// ScanLimit is Scan returning at most limit pairs; limit <= 0 means no limit.
func (s *Snapshot) ScanLimit(ctx context.Context, minKey, maxKey []byte, limit int) ([]KV, error) {
	it, err := s.NewIterator(ctx, IteratorOptions{MinKey: minKey, MaxKey: maxKey})
	if err != nil {
		return nil, err
	}
	return scanIter(it, limit)
}

// Changes is Reader.Changes over the snapshot's version: the changes up to Seq.
func (s *Snapshot) Changes(ctx context.Context, opts ChangeOptions, handler func(Change) error) (next uint64, err error) {
	if err := s.usable(); err != nil {
		return opts.FromSeq, err
	}
	return s.r.changesOf(ctx, s.m, opts, handler)
}

// Close releases the snapshot: its reader may drop the SSTs only it used. Later calls fail
// with ErrClosed; iterators made from it keep working until closed. Close is idempotent.
func (s *Snapshot) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	r := s.r
	r.snaps.mu.Lock()
	delete(r.snaps.open, s)
	r.snaps.mu.Unlock()
	// A snapshot of the current version uses no SST the version does not: nothing to
	// evict (the common case for short snapshots, such as kv's scans). If a Refresh stores
	// a newer version after this check, its own eviction runs after it and no longer sees
	// s among the open snapshots.
	if !r.closed.Load() && s.m != r.cur.Load() {
		r.evictUnused(s.m.AllSSTIDs())
	}
	return nil
}
