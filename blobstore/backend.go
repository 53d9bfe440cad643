package blobstore

import "context"

// Backend is the raw object-store protocol a Store runs on. IsleDB provides backends for
// memory, a local directory and gocloud.dev buckets; a Backend of your own (or a wrapper
// that injects faults, as IsleDB's tests do) is passed to NewWithBackend.
//
// Keys given to a Backend are full keys, the Store's prefix included, and are already
// validated. Every method may be called concurrently. A call is one request for the
// Store's accounting. Returned byte slices belong to the caller; data passed to Put may
// not be retained after Put returns.
//
// Errors: a missing object is reported with an error wrapping ErrNotFound, a failed
// condition with one wrapping ErrPreconditionFailed. An error the Store should retry is
// marked by a method Transient() bool returning true, or recognised from the HTTP status
// (408, 429, 5xx) or a network timeout or reset.
type Backend interface {
	// Get returns length bytes of the object from offset (length < 0: to the end),
	// fewer if the object ends first, and the object's attributes. An offset past the end
	// is ErrInvalidRange; an offset equal to the size gives no bytes.
	Get(ctx context.Context, key string, offset, length int64) ([]byte, Attributes, error)
	// Head returns the object's attributes, WriteID included where known.
	Head(ctx context.Context, key string) (Attributes, error)
	// Put stores data under key, atomically: a reader sees the old object or the new one,
	// never part of one. The write is durable when Put returns.
	Put(ctx context.Context, key string, data []byte, opts PutOptions) (Attributes, error)
	// Delete removes the object. Deleting a missing object succeeds.
	Delete(ctx context.Context, key string) error
	// List returns one page of objects whose keys start with opts.Prefix (a full key
	// prefix), in ascending key order.
	List(ctx context.Context, opts ListOptions) (*ListResult, error)
	// Close releases the backend's resources.
	Close() error
}
