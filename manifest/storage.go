package manifest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// Storage keeps the manifest log's entries and snapshots. The Store runs the manifest
// protocol on top of it; NewBlobStorage keeps them in a bucket, and a Storage of your own
// (a database table, say) can be passed to NewStoreWithStorage or DBOptions.ManifestStorage.
//
// Entries and snapshots are opaque byte strings, each identified by a sequence number.
// Both are written once and never modified; they are only created and deleted.
//
// Every method may be called concurrently, from any number of processes and machines
// sharing the same database. The Store never modifies a byte slice it passes in and never
// retains one it got back, and the reverse holds for implementations: data passed to a
// Create method may not be retained after it returns, and returned slices belong to the
// caller.
//
// Errors: a missing entry or snapshot is an error wrapping ErrNotFound; a Create that finds
// the sequence number taken is an error wrapping ErrConflict. Any other error means the
// outcome is unknown (the Store then reads back to find out). Implementations should retry
// transient failures themselves.
//
// Guarantees the protocol relies on:
//
//   - CreateLogEntry and CreateSnapshot are atomic put-if-absent operations: of any number
//     of concurrent creates of the same sequence number, across all processes, at most one
//     succeeds, and readers see either no object or the winner's complete bytes.
//   - A successful Create is durable and visible to every later Read and List, from any
//     process (read-after-write and list-after-write consistency).
//   - A Create whose first attempt landed but whose reply was lost should report success
//     on retry (the bucket implementation tags writes with a unique id for this). If it
//     reports ErrConflict instead, the Store reads the entry back and recognises its own
//     bytes, so this is an optimisation, not a requirement.
//   - Deleting is idempotent, and a deleted sequence number may be created again. (The
//     protocol never depends on it being impossible: see docs/format.md ("Manifest log and snapshots").)
type Storage interface {
	// CreateLogEntry stores data as log entry seq if no entry seq exists; otherwise it
	// fails with ErrConflict and changes nothing. Durable when it returns nil.
	CreateLogEntry(ctx context.Context, seq Seq, data []byte) error
	// ReadLogEntry returns the bytes of entry seq, or ErrNotFound.
	ReadLogEntry(ctx context.Context, seq Seq) ([]byte, error)
	// ListLogEntries returns the sequence numbers of the existing entries below below, in
	// ascending order. The log may be long; implementations should stop scanning at below.
	ListLogEntries(ctx context.Context, below Seq) ([]Seq, error)
	// DeleteLogEntries deletes the given entries. Missing entries count as deleted.
	DeleteLogEntries(ctx context.Context, seqs []Seq) error

	// CreateSnapshot stores data as the snapshot of position seq if none exists;
	// otherwise it fails with ErrConflict. Durable when it returns nil.
	CreateSnapshot(ctx context.Context, seq Seq, data []byte) error
	// ReadSnapshot returns the bytes of the snapshot of position seq, or ErrNotFound.
	ReadSnapshot(ctx context.Context, seq Seq) ([]byte, error)
	// ListSnapshots returns every snapshot, in ascending order of Seq. It is called on
	// every Replay and after every append, so it must be cheap; the Store keeps the
	// number of snapshots small by pruning.
	ListSnapshots(ctx context.Context) ([]SnapshotInfo, error)
	// DeleteSnapshots deletes the given snapshots. Missing ones count as deleted.
	DeleteSnapshots(ctx context.Context, seqs []Seq) error
}

// SnapshotInfo describes a stored snapshot.
type SnapshotInfo struct {
	// Seq is the position of the last log entry the snapshot includes.
	Seq Seq
	// Size is the snapshot's length in bytes.
	Size int64
	// CreatedAt is when the snapshot was stored, by the storage's clock (the bucket's
	// modification time). Pruning waits PruneGrace after it.
	CreatedAt time.Time
}

// Object keys of the bucket layout (relative to the store's prefix). Frozen.
const (
	logDir      = "manifest/log/"
	snapshotDir = "manifest/snapshot/"
	seqDigits   = 20
)

// LogEntryKey returns the bucket key of log entry seq: "manifest/log/<seq:020d>".
func LogEntryKey(seq Seq) string { return fmt.Sprintf("%s%020d", logDir, uint64(seq)) }

// SnapshotKey returns the bucket key of the snapshot of position seq:
// "manifest/snapshot/<seq:020d>".
func SnapshotKey(seq Seq) string { return fmt.Sprintf("%s%020d", snapshotDir, uint64(seq)) }

// parseSeqKey returns the sequence number of a key dir + 20 digits.
func parseSeqKey(key, dir string) (Seq, bool) {
	name, ok := strings.CutPrefix(key, dir)
	if !ok || len(name) != seqDigits {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(name, 10, 64)
	if err != nil {
		return 0, false
	}
	return Seq(v), true
}

// blobStorage is the bucket-backed Storage.
type blobStorage struct {
	bs *blobstore.Store
}

var _ Storage = (*blobStorage)(nil)

// NewBlobStorage returns the Storage that keeps entries and snapshots in the bucket under
// the store's prefix, as "manifest/log/<seq:020d>" and "manifest/snapshot/<seq:020d>".
// Creates use WriteIfNotExist; errors wrap ErrConflict or ErrNotFound and the
// blobstore error (blobstore.ErrPreconditionFailed, blobstore.ErrNotFound).
func NewBlobStorage(store *blobstore.Store) Storage {
	return &blobStorage{bs: store}
}

func mapBlobErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, blobstore.ErrPreconditionFailed):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, blobstore.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func (b *blobStorage) CreateLogEntry(ctx context.Context, seq Seq, data []byte) error {
	_, err := b.bs.WriteIfNotExist(ctx, LogEntryKey(seq), data)
	return mapBlobErr(err)
}

func (b *blobStorage) ReadLogEntry(ctx context.Context, seq Seq) ([]byte, error) {
	data, _, err := b.bs.Read(ctx, LogEntryKey(seq))
	return data, mapBlobErr(err)
}

func (b *blobStorage) ListLogEntries(ctx context.Context, below Seq) ([]Seq, error) {
	var out []Seq
	opts := blobstore.ListOptions{Prefix: logDir}
	for {
		page, err := b.bs.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			seq, ok := parseSeqKey(o.Key, logDir)
			if !ok {
				continue
			}
			if seq >= below {
				return out, nil
			}
			out = append(out, seq)
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// lastLogEntry implements logLister: one LIST page of the log.
func (b *blobStorage) lastLogEntry(ctx context.Context) (Seq, bool, error) {
	page, err := b.bs.List(ctx, blobstore.ListOptions{Prefix: logDir})
	if err != nil {
		return 0, false, err
	}
	var last Seq
	for _, o := range page.Objects {
		if seq, ok := parseSeqKey(o.Key, logDir); ok {
			last = max(last, seq)
		}
	}
	return last, page.NextPageToken == "", nil
}

func (b *blobStorage) DeleteLogEntries(ctx context.Context, seqs []Seq) error {
	keys := make([]string, len(seqs))
	for i, s := range seqs {
		keys[i] = LogEntryKey(s)
	}
	return b.bs.BatchDelete(ctx, keys)
}

func (b *blobStorage) CreateSnapshot(ctx context.Context, seq Seq, data []byte) error {
	_, err := b.bs.WriteIfNotExist(ctx, SnapshotKey(seq), data)
	return mapBlobErr(err)
}

func (b *blobStorage) ReadSnapshot(ctx context.Context, seq Seq) ([]byte, error) {
	data, _, err := b.bs.Read(ctx, SnapshotKey(seq))
	return data, mapBlobErr(err)
}

func (b *blobStorage) ListSnapshots(ctx context.Context) ([]SnapshotInfo, error) {
	objs, err := b.bs.ListAll(ctx, snapshotDir)
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotInfo, 0, len(objs))
	for _, o := range objs {
		if seq, ok := parseSeqKey(o.Key, snapshotDir); ok {
			out = append(out, SnapshotInfo{Seq: seq, Size: o.Size, CreatedAt: o.ModTime})
		}
	}
	return out, nil
}

func (b *blobStorage) DeleteSnapshots(ctx context.Context, seqs []Seq) error {
	keys := make([]string, len(seqs))
	for i, s := range seqs {
		keys[i] = SnapshotKey(s)
	}
	return b.bs.BatchDelete(ctx, keys)
}

// logLister is implemented by Storages that can tell the last log entry with one cheap
// request while the log is short (pruning keeps it so). ok is false when they cannot
// (the log is longer than one listing page). The answer is only a hint of how many slots
// a replay should read at once: nothing is proven by it.
type logLister interface {
	lastLogEntry(ctx context.Context) (last Seq, ok bool, err error)
}

// errStorage fails every call with err.
type errStorage struct{ err error }

func (e errStorage) CreateLogEntry(context.Context, Seq, []byte) error     { return e.err }
func (e errStorage) ReadLogEntry(context.Context, Seq) ([]byte, error)     { return nil, e.err }
func (e errStorage) ListLogEntries(context.Context, Seq) ([]Seq, error)    { return nil, e.err }
func (e errStorage) DeleteLogEntries(context.Context, []Seq) error         { return e.err }
func (e errStorage) CreateSnapshot(context.Context, Seq, []byte) error     { return e.err }
func (e errStorage) ReadSnapshot(context.Context, Seq) ([]byte, error)     { return nil, e.err }
func (e errStorage) ListSnapshots(context.Context) ([]SnapshotInfo, error) { return nil, e.err }
func (e errStorage) DeleteSnapshots(context.Context, []Seq) error          { return e.err }
