package tablecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// localFile is an SST's own file in a local bucket, open for reading in place.
type localFile struct {
	*os.File
	size int64
}

func (f localFile) Size() int64 { return f.size }

// openInPlace opens the bucket's own file of meta when the store is a local directory; ok
// is false on other backends. A file whose size is not the manifest's is corruption (the
// SST's blocks are still checked by their CRCs as they are read); a missing file is
// blobstore.ErrNotFound, as a ranged read would report.
func openInPlace(store *blobstore.Store, meta *manifest.SSTMeta) (File, bool, error) {
	key := store.SSTPath(meta.ID)
	path, ok := store.LocalPath(key)
	if !ok {
		return nil, false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, fmt.Errorf("tablecache: open sst %s in place: %w", meta.ID, blobstore.ErrNotFound)
		}
		return nil, false, fmt.Errorf("tablecache: open sst %s in place: %w", meta.ID, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("tablecache: open sst %s in place: %w", meta.ID, err)
	}
	if fi.Size() != meta.Size {
		_ = f.Close()
		return nil, false, base.CorruptionErrorf(key, 0, "sst file is %d bytes, want %d (the manifest's)", fi.Size(), meta.Size)
	}
	return localFile{File: f, size: fi.Size()}, true, nil
}
