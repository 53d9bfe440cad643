package manifest

import (
	"context"
	"errors"
	"fmt"

	"github.com/isledb/isledb/blobstore"
)

// GCMarkStorage stores the garbage collector's coordination state: the pending delete
// marks (SSTs removed from the manifest, waiting out their grace period before their
// objects are deleted) and the GC checkpoint. Both are opaque byte strings owned by the
// compactors; this interface only stores them, with compare-and-swap so that concurrent
// compactors (a live one and a fenced zombie, or a merge and a retention compactor) never
// overwrite each other's updates unknowingly.
//
// Each of the two values is a single slot that either exists or not:
//
//   - Load returns the current bytes, a match token identifying this version of the slot,
//     and exists = true; or nil, "", false, nil if the slot was never stored. The token is
//     opaque to callers (the bucket implementation uses the object's ETag; a database
//     could use a row version). Any error other than "absent" is returned as err.
//   - Store replaces the slot with data only if it is still in the state a Load reported:
//     exists = false means "only if the slot does not exist" (create), exists = true means
//     "only if the slot's current token is matchToken" (compare-and-swap). If the condition
//     does not hold, Store changes nothing and returns an error wrapping ErrConflict; the
//     caller reloads, merges, and tries again.
//
// Store is atomic (readers see the old bytes or the new, never a mix) and durable when it
// returns nil. Every method may be called concurrently from many processes. Store does not
// retain data; Load's result belongs to the caller. A Store whose outcome is unknown
// (timeout) may have happened: reload and compare before retrying.
type GCMarkStorage interface {
	// LoadPendingDeleteMarks returns the pending delete marks, their match token and
	// whether they exist.
	LoadPendingDeleteMarks(ctx context.Context) ([]byte, string, bool, error)
	// StorePendingDeleteMarks replaces the marks if they are unchanged since the Load that
	// returned matchToken (exists = true), or creates them if absent (exists = false).
	StorePendingDeleteMarks(ctx context.Context, data []byte, matchToken string, exists bool) error
	// LoadGCCheckpoint returns the GC checkpoint, its match token and whether it exists.
	LoadGCCheckpoint(ctx context.Context) ([]byte, string, bool, error)
	// StoreGCCheckpoint replaces or creates the checkpoint, like StorePendingDeleteMarks.
	StoreGCCheckpoint(ctx context.Context, data []byte, matchToken string, exists bool) error
}

// The bucket keys of the GC state (relative to the store's prefix). Frozen.
const (
	GCMarksKey      = "gc/marks"
	GCCheckpointKey = "gc/checkpoint"
)

type blobGCMarkStorage struct {
	bs *blobstore.Store
}

var _ GCMarkStorage = (*blobGCMarkStorage)(nil)

// NewBlobGCMarkStorage returns the GCMarkStorage that keeps the marks in "gc/marks" and
// the checkpoint in "gc/checkpoint" under the store's prefix. The match token is the
// object's ETag (on GCS, its generation); creates use WriteIfNotExist and updates
// WriteIfMatch. A lost condition is an error wrapping both ErrConflict and
// blobstore.ErrPreconditionFailed.
func NewBlobGCMarkStorage(store *blobstore.Store) GCMarkStorage {
	return &blobGCMarkStorage{bs: store}
}

func (g *blobGCMarkStorage) load(ctx context.Context, key string) ([]byte, string, bool, error) {
	data, attrs, err := g.bs.Read(ctx, key)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	return data, attrs.ETag, true, nil
}

func (g *blobGCMarkStorage) store(ctx context.Context, key string, data []byte, matchToken string, exists bool) error {
	var err error
	if exists {
		if matchToken == "" {
			return fmt.Errorf("%w: %s: %w: empty match token", ErrConflict, key, blobstore.ErrPreconditionFailed)
		}
		_, err = g.bs.WriteIfMatch(ctx, key, data, matchToken)
		if errors.Is(err, blobstore.ErrNotFound) { // some servers answer 404 for a missing object
			err = fmt.Errorf("%w: %w", blobstore.ErrPreconditionFailed, err)
		}
	} else {
		_, err = g.bs.WriteIfNotExist(ctx, key, data)
	}
	if errors.Is(err, blobstore.ErrPreconditionFailed) {
		return fmt.Errorf("%w: %s: %w", ErrConflict, key, err)
	}
	return err
}

func (g *blobGCMarkStorage) LoadPendingDeleteMarks(ctx context.Context) ([]byte, string, bool, error) {
	return g.load(ctx, GCMarksKey)
}

func (g *blobGCMarkStorage) StorePendingDeleteMarks(ctx context.Context, data []byte, matchToken string, exists bool) error {
	return g.store(ctx, GCMarksKey, data, matchToken, exists)
}

func (g *blobGCMarkStorage) LoadGCCheckpoint(ctx context.Context) ([]byte, string, bool, error) {
	return g.load(ctx, GCCheckpointKey)
}

func (g *blobGCMarkStorage) StoreGCCheckpoint(ctx context.Context, data []byte, matchToken string, exists bool) error {
	return g.store(ctx, GCCheckpointKey, data, matchToken, exists)
}
