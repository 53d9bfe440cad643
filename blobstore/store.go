package blobstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/isledb/isledb/internal/base"
)

// Store is an object-store bucket seen through a key prefix. See the package doc.
type Store struct {
	backend    Backend
	bucketName string
	prefix     string // as given, without a trailing slash
	keyPrefix  string // prefix + "/", or "" for no prefix
	retry      RetryPolicy
	onRetry    func() // SetRetryHook; nil: none
	stats      counters
	closed     atomic.Bool
	closeOnce  sync.Once
	closeErr   error
}

// NewWithBackend returns a Store over backend under prefix ("" for none). It panics
// neither on a bad prefix nor a nil backend: both make every call fail with an error;
// use NewWithBackendChecked to get the error at once.
func NewWithBackend(backend Backend, bucketName, prefix string) *Store {
	s, err := NewWithBackendChecked(backend, bucketName, prefix)
	if err != nil {
		return &Store{backend: errBackend{err}, bucketName: bucketName, prefix: prefix, retry: DefaultRetryPolicy()}
	}
	return s
}

// NewWithBackendChecked is NewWithBackend reporting an invalid prefix or a nil backend.
func NewWithBackendChecked(backend Backend, bucketName, prefix string) (*Store, error) {
	if backend == nil {
		return nil, errors.New("blobstore: nil backend")
	}
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	prefix = strings.TrimSuffix(prefix, "/")
	s := &Store{backend: backend, bucketName: bucketName, prefix: prefix, retry: DefaultRetryPolicy()}
	if prefix != "" {
		s.keyPrefix = prefix + "/"
	}
	return s, nil
}

// SetRetryPolicy replaces the retry policy (zero fields take their defaults). Call it
// before the Store is shared.
func (s *Store) SetRetryPolicy(p RetryPolicy) { s.retry = p.withDefaults() }

// RetryPolicy returns the Store's retry policy.
func (s *Store) RetryPolicy() RetryPolicy { return s.retry }

// SetRetryHook makes the Store call f (from the retrying goroutine) before every retry of
// a failed attempt; nil removes it. Metrics use it (isledb.InstrumentStore). Call it
// before the Store is shared.
func (s *Store) SetRetryHook(f func()) { s.onRetry = f }

// Backend returns the backend the Store runs on.
func (s *Store) Backend() Backend { return s.backend }

// BucketName returns the bucket's name ("" where it has none, as for memory stores).
func (s *Store) BucketName() string { return s.bucketName }

// Close releases the Store's resources. Later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = s.backend.Close()
	})
	return s.closeErr
}

// Prefix returns the prefix every key is relative to, without a trailing slash.
func (s *Store) Prefix() string { return s.prefix }

// SSTPath returns the key of the SST file with the given id: "sst/<id>.sst".
func (s *Store) SSTPath(id string) string { return base.SSTKey(id) }

// BlobPath returns the key of the blob with the given id (its SHA-256 in hex): "blob/<id>".
func (s *Store) BlobPath(blobID string) string { return base.BlobKey(blobID) }

// Stats returns the requests sent and bytes moved since the Store was made.
func (s *Store) Stats() Stats { return s.stats.snapshot() }

// fullKey validates key and prepends the prefix.
func (s *Store) fullKey(key string) (string, error) {
	if s.closed.Load() {
		return "", ErrClosed
	}
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	full := s.keyPrefix + key
	if len(full) > MaxKeyLength {
		return "", fmt.Errorf("%w: key %q with prefix is longer than %d bytes", ErrKeyTooLong, key, MaxKeyLength)
	}
	return full, nil
}

// LocalPath returns the file that holds the object under key when the Store is on the file
// backend (NewFile), so that an immutable object may be opened in place; ok is false on
// every other backend or for an invalid key. The file may be replaced or deleted by later
// writes: only objects never rewritten (SSTs, blobs) are safe to read this way.
func (s *Store) LocalPath(key string) (path string, ok bool) {
	fb, isFile := s.backend.(*fileBackend)
	if !isFile {
		return "", false
	}
	full, err := s.fullKey(key)
	if err != nil {
		return "", false
	}
	p, err := fb.path(full)
	if err != nil {
		return "", false
	}
	return p, true
}

// Read returns the whole object and its attributes.
func (s *Store) Read(ctx context.Context, key string) ([]byte, Attributes, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return nil, Attributes{}, opError("read", key, err)
	}
	var data []byte
	var attrs Attributes
	err = s.do(ctx, func(int) error {
		s.stats.gets.Add(1)
		var e error
		data, attrs, e = s.backend.Get(ctx, full, 0, -1)
		s.stats.bytesRead.Add(int64(len(data)))
		return e
	})
	if err != nil {
		return nil, Attributes{}, opError("read", key, err)
	}
	return data, attrs, nil
}

// ReadRange returns length bytes of the object starting at offset; fewer if the object
// ends first, none if offset equals its size. An offset past the end, or a negative
// offset or length, is ErrInvalidRange.
func (s *Store) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return nil, opError("read range", key, err)
	}
	if offset < 0 || length < 0 {
		return nil, opError("read range", key, fmt.Errorf("%w: offset %d, length %d", ErrInvalidRange, offset, length))
	}
	if length == 0 {
		return []byte{}, nil
	}
	var data []byte
	err = s.do(ctx, func(int) error {
		s.stats.rangedGets.Add(1)
		var e error
		data, _, e = s.backend.Get(ctx, full, offset, length)
		s.stats.bytesRead.Add(int64(len(data)))
		return e
	})
	if err != nil {
		return nil, opError("read range", key, err)
	}
	return data, nil
}

// Write stores data under key, replacing any object there. Atomic: readers see the old
// object or the new one. Durable when Write returns.
func (s *Store) Write(ctx context.Context, key string, data []byte) (Attributes, error) {
	return s.put(ctx, "write", key, data, PutOptions{})
}

// WriteIfMatch replaces the object only if its current ETag is ifMatch; otherwise, or if
// there is no object, it fails with ErrPreconditionFailed and changes nothing. An empty
// ifMatch means "no object yet": WriteIfMatch is then WriteIfNotExist (create if absent,
// failing with ErrPreconditionFailed if an object has the key), as in the original isledb.
func (s *Store) WriteIfMatch(ctx context.Context, key string, data []byte, ifMatch string) (Attributes, error) {
	if ifMatch == "" {
		return s.put(ctx, "write if match", key, data, PutOptions{IfNotExist: true})
	}
	return s.put(ctx, "write if match", key, data, PutOptions{IfMatch: ifMatch})
}

// WriteIfNotExist creates the object only if no object has the key; otherwise it fails
// with ErrPreconditionFailed and changes nothing. Of concurrent callers exactly one wins.
func (s *Store) WriteIfNotExist(ctx context.Context, key string, data []byte) (Attributes, error) {
	return s.put(ctx, "write if not exist", key, data, PutOptions{IfNotExist: true})
}

func (s *Store) put(ctx context.Context, op, key string, data []byte, opts PutOptions) (Attributes, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return Attributes{}, opError(op, key, err)
	}
	cond := opts.conditional()
	if cond {
		opts.WriteID = newWriteID()
	}
	var attrs Attributes
	err = s.do(ctx, func(int) error {
		if cond {
			s.stats.condPuts.Add(1)
		} else {
			s.stats.puts.Add(1)
		}
		s.stats.bytesWritten.Add(int64(len(data)))
		var e error
		attrs, e = s.backend.Put(ctx, full, data, opts)
		if cond && errors.Is(e, ErrPreconditionFailed) {
			// An earlier attempt of this call (ours, or one the SDK retried inside the
			// backend) may have landed and only its reply been lost: then the object
			// carries our write id, and the write succeeded.
			if own, ok := s.ownWrite(ctx, full, opts.WriteID); ok {
				attrs = own
				return nil
			}
		}
		return e
	})
	if err != nil {
		return Attributes{}, opError(op, key, err)
	}
	return attrs, nil
}

// ownWrite reports whether the object at full carries writeID, and its attributes.
func (s *Store) ownWrite(ctx context.Context, full, writeID string) (Attributes, bool) {
	var attrs Attributes
	err := s.do(ctx, func(int) error {
		s.stats.heads.Add(1)
		var e error
		attrs, e = s.backend.Head(ctx, full)
		return e
	})
	if err != nil || attrs.WriteID == "" || attrs.WriteID != writeID {
		return Attributes{}, false
	}
	return attrs, true
}

// newWriteID returns a random 128-bit id in hex.
func newWriteID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Delete removes the object. Deleting a missing object succeeds.
func (s *Store) Delete(ctx context.Context, key string) error {
	full, err := s.fullKey(key)
	if err != nil {
		return opError("delete", key, err)
	}
	err = s.do(ctx, func(int) error {
		s.stats.deletes.Add(1)
		return s.backend.Delete(ctx, full)
	})
	if err != nil {
		return opError("delete", key, err)
	}
	return nil
}

// batchDeleteConcurrency bounds the deletes a BatchDelete has in flight.
const batchDeleteConcurrency = 16

// BatchDelete deletes every key, up to 16 at a time. Missing keys count as deleted, and
// empty keys are skipped (as in the original isledb). If any key fails, the error is a
// *BatchDeleteError naming each failed key; the rest were deleted.
func (s *Store) BatchDelete(ctx context.Context, keys []string) error {
	var mu sync.Mutex
	failed := map[string]error{}
	sem := make(chan struct{}, batchDeleteConcurrency)
	var wg sync.WaitGroup
	for _, k := range keys {
		if k == "" {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.Delete(ctx, k); err != nil {
				mu.Lock()
				failed[k] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		return &BatchDeleteError{Failed: failed}
	}
	return nil
}

// Exists reports whether an object has the key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Attributes(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Attributes returns the object's attributes (one HEAD request).
func (s *Store) Attributes(ctx context.Context, key string) (Attributes, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return Attributes{}, opError("attributes", key, err)
	}
	var attrs Attributes
	err = s.do(ctx, func(int) error {
		s.stats.heads.Add(1)
		var e error
		attrs, e = s.backend.Head(ctx, full)
		return e
	})
	if err != nil {
		return Attributes{}, opError("attributes", key, err)
	}
	return attrs, nil
}

// defaultPageSize is the page size of List when ListOptions.PageSize is 0.
const defaultPageSize = 1000

// List returns one page of the objects whose keys start with opts.Prefix, in ascending key
// order, with keys relative to the Store's prefix.
func (s *Store) List(ctx context.Context, opts ListOptions) (*ListResult, error) {
	if s.closed.Load() {
		return nil, opError("list", opts.Prefix, ErrClosed)
	}
	if err := validatePrefix(opts.Prefix); err != nil {
		return nil, opError("list", opts.Prefix, err)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	full := opts
	full.Prefix = s.keyPrefix + opts.Prefix
	var res *ListResult
	err := s.do(ctx, func(int) error {
		s.stats.lists.Add(1)
		var e error
		res, e = s.backend.List(ctx, full)
		return e
	})
	if err != nil {
		return nil, opError("list", opts.Prefix, err)
	}
	for i := range res.Objects {
		res.Objects[i].Key = strings.TrimPrefix(res.Objects[i].Key, s.keyPrefix)
	}
	return res, nil
}

// ListAll returns every object whose key starts with prefix, following all pages.
func (s *Store) ListAll(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	opts := ListOptions{Prefix: prefix}
	for {
		page, err := s.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Objects...)
		if page.NextPageToken == "" {
			return out, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// ListSSTFiles lists every SST file ("sst/" keys).
func (s *Store) ListSSTFiles(ctx context.Context) ([]ObjectInfo, error) {
	return s.ListAll(ctx, base.SSTDir)
}

// ListBlobFiles lists every blob ("blob/" keys).
func (s *Store) ListBlobFiles(ctx context.Context) ([]ObjectInfo, error) {
	return s.ListAll(ctx, base.BlobDir)
}

// errBackend fails every call with err; it stands in for a Store made with a bad argument.
type errBackend struct{ err error }

func (b errBackend) Get(context.Context, string, int64, int64) ([]byte, Attributes, error) {
	return nil, Attributes{}, b.err
}
func (b errBackend) Head(context.Context, string) (Attributes, error) { return Attributes{}, b.err }
func (b errBackend) Put(context.Context, string, []byte, PutOptions) (Attributes, error) {
	return Attributes{}, b.err
}
func (b errBackend) Delete(context.Context, string) error                   { return b.err }
func (b errBackend) List(context.Context, ListOptions) (*ListResult, error) { return nil, b.err }
func (b errBackend) Close() error                                           { return nil }
