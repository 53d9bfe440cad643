package tablecache

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// errNotCached reports that the file cache would not take an SST (too large, no room,
// closed): the caller goes on without it.
var errNotCached = errors.New("tablecache: the file cache does not take the sst")

// download fetches the SST meta describes into the file cache, checking its size and
// SHA-256 against want (and the manifest) before it is stored, and returns the cached
// file, open. The body is streamed: hashed and written to the cache file as it arrives,
// never held whole in memory. The file's space is reserved before the download starts, so
// the disk held for SSTs never exceeds the cache's capacity. errNotCached: the cache
// refused it. A body that fails part way is fetched once more from the start.
func (c *Cache) download(ctx context.Context, meta *manifest.SSTMeta, want []byte) (File, error) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var f File
		var retry bool
		if f, retry, err = c.downloadOnce(ctx, meta, want); err == nil || !retry || ctx.Err() != nil {
			return f, err
		}
	}
	return nil, err
}

// downloadOnce is one attempt of download; retry reports a failure worth another.
func (c *Cache) downloadOnce(ctx context.Context, meta *manifest.SSTMeta, want []byte) (f File, retry bool, err error) {
	w, err := c.opts.Files.Create(meta.ID, meta.Size)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errNotCached, err)
	}
	defer w.Abort()
	key := c.opts.Store.SSTPath(meta.ID)
	dst := &verifyingWriter{w: w, h: sha256.New(), limit: meta.Size}
	_, n, err := c.opts.Store.ReadTo(ctx, key, dst)
	switch {
	case dst.tooLong:
		return nil, false, base.CorruptionErrorf(key, 0, "sst content does not match the manifest (more than %d bytes)", meta.Size)
	case dst.err != nil:
		// The cache file could not be written (a full disk, say).
		return nil, false, fmt.Errorf("%w: %w", errNotCached, dst.err)
	case err != nil:
		return nil, n > 0, fmt.Errorf("tablecache: read sst %s: %w", meta.ID, err)
	}
	if got := dst.h.Sum(nil); string(got) != string(want) || n != meta.Size {
		return nil, false, base.CorruptionErrorf(key, 0,
			"sst content does not match the manifest (size %d, want %d; sha256 %x, want %x)", n, meta.Size, got, want)
	}
	if err := w.Commit(); err != nil {
		return nil, false, fmt.Errorf("%w: %w", errNotCached, err)
	}
	f, ok, err := c.opts.Files.Open(meta.ID)
	if err != nil || !ok {
		// Evicted already (or the cache closed): the download is lost to the cache.
		return nil, false, fmt.Errorf("%w: evicted at once (%v)", errNotCached, err)
	}
	return f, false, nil
}

// verifyingWriter hashes what it writes to w, refusing more than limit bytes.
type verifyingWriter struct {
	w       io.Writer
	h       hash.Hash
	limit   int64
	n       int64
	tooLong bool
	err     error // w's error
}

func (v *verifyingWriter) Write(p []byte) (int, error) {
	if v.n+int64(len(p)) > v.limit {
		v.tooLong = true
		return 0, errors.New("object larger than the manifest says")
	}
	v.h.Write(p)
	n, err := v.w.Write(p)
	v.n += int64(n)
	if err != nil {
		v.err = err
	}
	return n, err
}
