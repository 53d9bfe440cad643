package gc

import (
	"context"
	"errors"

	"github.com/isledb/isledb/blobstore"
)

// deleteObjects is the one batch delete of GC (SSTs, blobs, WAL objects): it deletes keys
// and returns the indexes of those that are gone — all of them on success; on a partial
// failure (*blobstore.BatchDeleteError) those the store did not report failed; none on
// any other error — and the store's error.
func deleteObjects(ctx context.Context, store *blobstore.Store, keys []string) ([]int, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	err := store.BatchDelete(ctx, keys)
	var be *blobstore.BatchDeleteError
	if err != nil && !errors.As(err, &be) {
		return nil, err
	}
	var gone []int
	for i, k := range keys {
		if be == nil || be.Failed[k] == nil {
			gone = append(gone, i)
		}
	}
	return gone, err
}
