package blobstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// StreamBackend is a Backend that can stream a whole object's body: GetStream returns a
// reader on it, positioned at its start, and the object's attributes (Size included).
// The caller closes the reader. It is one request for the Store's accounting, like Get.
// Backends that do not implement it are streamed from one Get.
type StreamBackend interface {
	Backend
	GetStream(ctx context.Context, key string) (io.ReadCloser, Attributes, error)
}

// ReadTo copies the whole object to w as its body arrives (no buffering of the object in
// memory when the backend streams, see StreamBackend) and returns its attributes and the
// bytes copied. A failure to open the object is retried under the Store's policy; one
// once bytes have reached w is returned, since w cannot take them back: the caller starts
// over if it wants to. An error of w is returned as is (wrapped), with the bytes copied.
func (s *Store) ReadTo(ctx context.Context, key string, w io.Writer) (Attributes, int64, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return Attributes{}, 0, opError("read", key, err)
	}
	var (
		body  io.ReadCloser
		attrs Attributes
	)
	err = s.do(ctx, func(int) error {
		s.stats.gets.Add(1)
		var e error
		if sb, ok := s.backend.(StreamBackend); ok {
			body, attrs, e = sb.GetStream(ctx, full)
			return e
		}
		var data []byte
		data, attrs, e = s.backend.Get(ctx, full, 0, -1)
		body = io.NopCloser(bytes.NewReader(data))
		return e
	})
	if err != nil {
		return Attributes{}, 0, opError("read", key, err)
	}
	defer body.Close()
	cw := &countingWriter{w: w}
	n, err := io.Copy(cw, body)
	s.stats.bytesRead.Add(n)
	if err != nil {
		if cw.err != nil {
			return attrs, n, fmt.Errorf("blobstore: read %q: writing: %w", key, err)
		}
		s.stats.requestErrors.Add(1)
		return attrs, n, opError("read", key, fmt.Errorf("body: %w", err))
	}
	return attrs, n, nil
}

// countingWriter remembers w's own error, to tell it from the body's.
type countingWriter struct {
	w   io.Writer
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

var (
	_ StreamBackend = (*memoryBackend)(nil)
	_ StreamBackend = (*fileBackend)(nil)
	_ StreamBackend = (*gocloudBackend)(nil)
)

// GetStream implements StreamBackend: objects are immutable byte slices (Put stores a
// copy), so the reader reads the stored one without copying it.
func (b *memoryBackend) GetStream(_ context.Context, key string) (io.ReadCloser, Attributes, error) {
	o, err := b.lookup(key)
	if err != nil {
		return nil, Attributes{}, err
	}
	return io.NopCloser(bytes.NewReader(o.data)), o.attrs(), nil
}

// GetStream implements StreamBackend with the object's file.
func (b *fileBackend) GetStream(_ context.Context, key string) (io.ReadCloser, Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, Attributes{}, nameErr(err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Attributes{}, nameErr(fileErr(err))
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = ErrNotFound
	}
	if err != nil {
		_ = f.Close()
		return nil, Attributes{}, nameErr(fileErr(err))
	}
	// The size is the stat's: a rename replacing the object leaves this file as it was.
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, fi.Size()), f}, fileAttrs(fi, ""), nil
}

// GetStream implements StreamBackend with the bucket's reader.
func (b *gocloudBackend) GetStream(ctx context.Context, key string) (io.ReadCloser, Attributes, error) {
	r, err := b.bkt.NewReader(ctx, key, nil)
	if err != nil {
		return nil, Attributes{}, mapErr(err)
	}
	etag, gen := b.native.readerETag(r)
	return r, Attributes{Size: r.Size(), ETag: etag, ModTime: r.ModTime(), Generation: gen}, nil
}
