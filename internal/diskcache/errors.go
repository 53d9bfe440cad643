package diskcache

import "errors"

// Errors returned by this package. Errors from the file system are wrapped with the
// operation and the item's name.
var (
	// ErrInvalidName is wrapped by the error for a name the cache cannot store (see
	// ValidateName).
	ErrInvalidName = errors.New("diskcache: invalid name")
	// ErrTooLarge is returned by Put for an item larger than Options.MaxItemSize or than the
	// whole capacity. It is not a failure: the caller simply goes without caching.
	ErrTooLarge = errors.New("diskcache: item too large")
	// ErrClosed is returned by operations on a closed Cache.
	ErrClosed = errors.New("diskcache: closed")
	// ErrInvalidOptions is wrapped by every options validation error.
	ErrInvalidOptions = errors.New("diskcache: invalid options")
)
