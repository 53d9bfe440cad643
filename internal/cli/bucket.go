package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

// openStore opens the bucket the global flags name.
func (c *cmd) openStore(ctx context.Context) (*blobstore.Store, error) {
	if c.url == "" {
		return nil, usageErr("no bucket: give -url (before the verb) or set ISLEDB_URL")
	}
	if _, err := url.Parse(c.url); err != nil {
		return nil, usageErr("bad -url %q: %v", c.url, err)
	}
	s, err := c.env.Open(ctx, c.url, c.prefix)
	if errors.Is(err, blobstore.ErrUnsupportedScheme) || errors.Is(err, blobstore.ErrInvalidKey) {
		return nil, usageErr("bad -url %q or -prefix %q: %v", c.url, c.prefix, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open bucket %q: %w", c.url, err)
	}
	return s, nil
}

// openDB opens the bucket and checks that it holds a database: some manifest object.
func (c *cmd) openDB(ctx context.Context) (*blobstore.Store, error) {
	s, err := c.openStore(ctx)
	if err != nil {
		return nil, err
	}
	page, err := s.List(ctx, blobstore.ListOptions{Prefix: "manifest/", PageSize: 1})
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("read bucket %q (prefix %q): %w", c.url, c.prefix, err)
	}
	if len(page.Objects) == 0 {
		_ = s.Close()
		return nil, withCode(ExitNoDatabase, "no database in bucket %q under prefix %q: no manifest objects (wrong -url or -prefix?)", c.url, c.prefix)
	}
	return s, nil
}

// replay returns the database's current manifest.
func replay(ctx context.Context, s *blobstore.Store) (*manifest.Manifest, error) {
	m, err := manifest.NewStore(s).Replay(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay manifest: %w", err)
	}
	return m, nil
}

// reader opens a reader on s with its caches in a temporary directory, removed by the
// returned function (which also closes the reader).
func (c *cmd) reader(ctx context.Context, s *blobstore.Store) (*isledb.Reader, func(), error) {
	dir, err := os.MkdirTemp("", "isledb-cli-cache-")
	if err != nil {
		return nil, nil, err
	}
	opts := isledb.DefaultReaderOpenOptions()
	opts.CacheDir = dir
	r, err := isledb.OpenReader(ctx, s, opts)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return r, func() { _ = r.Close(); _ = os.RemoveAll(dir) }, nil
}

// tailingReader opens a tailing reader refreshing every poll, with its caches in a
// temporary directory, removed by the returned function (which also closes the reader).
func (c *cmd) tailingReader(ctx context.Context, s *blobstore.Store, poll time.Duration, set ...func(*isledb.ReaderOpenOptions)) (*isledb.TailingReader, func(), error) {
	dir, err := os.MkdirTemp("", "isledb-cli-cache-")
	if err != nil {
		return nil, nil, err
	}
	opts := isledb.DefaultTailingReaderOpenOptions()
	opts.RefreshInterval = poll
	opts.ReaderOptions.CacheDir = dir
	for _, f := range set {
		f(&opts.ReaderOptions)
	}
	tr, err := isledb.OpenTailingReader(ctx, s, opts)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return tr, func() { _ = tr.Close(); _ = os.RemoveAll(dir) }, nil
}
