package sstable

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Source is random access to the bytes of one immutable SST file: a byte slice, a local
// file, or ranged reads of a bucket object.
//
// The reader asks for exactly the ranges it needs and batches adjacent ones: opening a file
// reads one range at the end (two at most), and iterators read runs of adjacent blocks with a
// single call. An implementation over an object store should therefore map one ReadAt call
// to one ranged GET.
//
// Implementations must be safe for concurrent use by multiple goroutines.
type Source interface {
	// ReadAt reads len(p) bytes starting at offset off into p. It returns an error unless it
	// filled p completely; reading past Size is an error. p belongs to the caller and is
	// not retained after ReadAt returns. ctx bounds the read.
	ReadAt(ctx context.Context, p []byte, off int64) error
	// Size returns the size of the file in bytes. It must not change.
	Size() int64
}

// BytesSource is a Source over a byte slice held in memory. Readers opened over one (see
// OpenBytes) slice blocks directly out of it instead of copying them.
type BytesSource []byte

var _ Source = BytesSource(nil)

// ReadAt copies the range [off, off+len(p)) into p.
func (b BytesSource) ReadAt(_ context.Context, p []byte, off int64) error {
	if off < 0 || off > int64(len(b)) || int64(len(p)) > int64(len(b))-off {
		return fmt.Errorf("sstable: read of %d bytes at %d beyond %d: %w", len(p), off, len(b), io.ErrUnexpectedEOF)
	}
	copy(p, b[off:])
	return nil
}

// Size returns len(b).
func (b BytesSource) Size() int64 { return int64(len(b)) }

// FileSource is a Source over an open local file, for SSTs kept in a disk cache.
type FileSource struct {
	f    *os.File
	size int64
}

var _ Source = (*FileSource)(nil)

// NewFileSource returns a Source reading f, whose size is taken now. The caller keeps
// ownership of f and closes it after every Reader using it is closed.
func NewFileSource(f *os.File) (*FileSource, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sstable: stat %s: %w", f.Name(), err)
	}
	return &FileSource{f: f, size: st.Size()}, nil
}

// ReadAt reads from the file with pread; ctx is checked before the read only.
func (s *FileSource) ReadAt(ctx context.Context, p []byte, off int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if off < 0 || int64(len(p)) > s.size-off {
		return fmt.Errorf("sstable: read of %d bytes at %d beyond %d in %s: %w", len(p), off, s.size, s.f.Name(), io.ErrUnexpectedEOF)
	}
	if _, err := s.f.ReadAt(p, off); err != nil {
		return fmt.Errorf("sstable: read %s: %w", s.f.Name(), err)
	}
	return nil
}

// Size returns the file size seen by NewFileSource.
func (s *FileSource) Size() int64 { return s.size }
