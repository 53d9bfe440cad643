package compaction

import (
	"context"
	"fmt"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
)

// BlobRefs calls fn with the value of every blob-reference entry of the SST with the given
// id and size, reading the file front to back. When the SST's properties say it holds no
// reference, it reads only the file's tail. fn must not retain ref.
func BlobRefs(ctx context.Context, store *blobstore.Store, id string, size int64, fn func(ref []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	key := store.SSTPath(id)
	src := newStreamSource(ctx, store, key, size, MaxChunkSize, false, &ioStats{})
	defer src.Close()
	r, err := sstable.Open(ctx, src, sstable.ReaderOptions{Object: key})
	if err != nil {
		return fmt.Errorf("compaction: open sst %s: %w", id, err)
	}
	defer r.Close()
	if r.Properties().BlobRefCount == 0 {
		return nil
	}
	it := r.NewIter(ctx, sstable.IterOptions{})
	for ok := it.First(); ok; ok = it.Next() {
		if it.Kind() == base.KindBlobRef {
			if err := fn(it.Value()); err != nil {
				_ = it.Close()
				return err
			}
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("compaction: read sst %s: %w", id, err)
	}
	return nil
}
