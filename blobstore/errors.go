package blobstore

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

var (
	// ErrNotFound reports that no object has the key.
	ErrNotFound = errors.New("blobstore: not found")

	// ErrPreconditionFailed reports that a conditional write did not take place:
	// WriteIfNotExist found an object, or WriteIfMatch found a different ETag or no object.
	ErrPreconditionFailed = errors.New("blobstore: precondition failed")

	// ErrInvalidKey reports a key or prefix that is empty, escapes the store (".."),
	// is absolute, or holds characters that are not allowed (see the package doc).
	ErrInvalidKey = errors.New("blobstore: invalid key")

	// ErrKeyTooLong reports a key or prefix longer than a backend can store: longer than
	// MaxKeyLength bytes, or, on the file backend, with a segment longer than a file name
	// holds (MaxFileSegmentLength bytes) or a path longer than the operating system accepts.
	// It wraps ErrInvalidKey.
	ErrKeyTooLong = fmt.Errorf("%w: key too long", ErrInvalidKey)

	// ErrInvalidRange reports a ranged read whose offset lies past the end of the object,
	// or a negative offset or length.
	ErrInvalidRange = errors.New("blobstore: invalid range")

	// ErrClosed reports use of a Store after Close.
	ErrClosed = errors.New("blobstore: store is closed")

	// ErrUnsupportedScheme reports a bucket URL whose scheme Open does not know.
	ErrUnsupportedScheme = errors.New("blobstore: unsupported bucket URL scheme")
)

// BatchDeleteError reports the keys a BatchDelete could not delete. Keys not in Failed were
// deleted (or did not exist).
type BatchDeleteError struct {
	// Failed maps each key that could not be deleted to the reason.
	Failed map[string]error
}

// Error implements error.
func (e *BatchDeleteError) Error() string {
	keys := make([]string, 0, len(e.Failed))
	for k := range e.Failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "blobstore: batch delete: %d key(s) failed", len(keys))
	for i, k := range keys {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(keys)-3)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", k, e.Failed[k])
	}
	return b.String()
}

// opError wraps a backend error with the operation and key, keeping the sentinel
// reachable through errors.Is.
func opError(op, key string, err error) error {
	return fmt.Errorf("blobstore: %s %q: %w", op, key, err)
}
