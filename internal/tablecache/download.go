package tablecache

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// errNotCached reports that the file cache would not take an SST (too large, no room,
// closed): the caller goes on without it.
var errNotCached = errors.New("tablecache: the file cache does not take the sst")

// download fetches the SST meta describes into the file cache, checking its size and
// SHA-256 against want (and the manifest) before it is stored, and returns the cached
// file, open. The file's space is reserved before the download starts, so the disk held
// for SSTs never exceeds the cache's capacity. errNotCached: the cache refused it.
func (c *Cache) download(ctx context.Context, meta *manifest.SSTMeta, want []byte) (File, error) {
	w, err := c.opts.Files.Create(meta.ID, meta.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotCached, err)
	}
	defer w.Abort()
	key := c.opts.Store.SSTPath(meta.ID)
	data, _, err := c.opts.Store.Read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("tablecache: read sst %s: %w", meta.ID, err)
	}
	if got := sha256.Sum256(data); string(got[:]) != string(want) || int64(len(data)) != meta.Size {
		return nil, base.CorruptionErrorf(key, 0,
			"sst content does not match the manifest (size %d, want %d; sha256 %x, want %x)", len(data), meta.Size, got, want)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotCached, err)
	}
	if err := w.Commit(); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotCached, err)
	}
	f, ok, err := c.opts.Files.Open(meta.ID)
	if err != nil || !ok {
		// Evicted already (or the cache closed): the download is lost to the cache.
		return nil, fmt.Errorf("%w: evicted at once (%v)", errNotCached, err)
	}
	return f, nil
}
