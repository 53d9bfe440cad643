package sstable

import (
	"errors"

	"github.com/isledb/isledb/internal/base"
)

// Errors returned by this package. Damaged or malformed files are reported as
// *base.CorruptionError values, which match base.ErrCorruption under errors.Is.
var (
	// ErrOutOfOrder is returned by Writer.Add for an entry that does not sort strictly after
	// the previous one (user key ascending, then sequence number descending).
	ErrOutOfOrder = errors.New("sstable: entry out of order")
	// ErrInvalidEntry is returned by Writer.Add for an entry that cannot be stored: unknown
	// kind, sequence number above base.SeqNumMax, negative expiry, key or value too large.
	ErrInvalidEntry = errors.New("sstable: invalid entry")
	// ErrWriterClosed is returned by Writer methods called after Finish or after an error
	// left the writer unusable.
	ErrWriterClosed = errors.New("sstable: writer finished or failed")
	// ErrUnknownCompression is returned for a compression name that is not supported.
	ErrUnknownCompression = errors.New("sstable: unknown compression")
	// ErrInvalidOptions is wrapped by every options validation error.
	ErrInvalidOptions = errors.New("sstable: invalid options")
	// ErrReaderClosed is returned by operations on a closed Reader.
	ErrReaderClosed = errors.New("sstable: reader closed")
	// ErrUnsupportedVersion is returned (wrapped in a corruption error) for a file whose
	// footer names a format version this package cannot read.
	ErrUnsupportedVersion = errors.New("sstable: unsupported format version")
)

// corruptf returns a corruption error for object at offset.
func corruptf(object string, offset int64, format string, args ...any) error {
	return base.CorruptionErrorf(object, offset, format, args...)
}

// corruptWrap returns a corruption error for object at offset caused by err.
func corruptWrap(object string, offset int64, reason string, err error) error {
	return &base.CorruptionError{Object: object, Offset: offset, Reason: reason, Err: err}
}
