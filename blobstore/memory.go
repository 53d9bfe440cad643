package blobstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NewMemory returns a Store that keeps objects in memory, for tests and benchmarks. It
// implements every operation atomically, conditional writes included, and copies data in
// and out, so callers may reuse their buffers.
func NewMemory(prefix string) *Store {
	return NewWithBackend(newMemoryBackend(), "", prefix)
}

// memoryBackend is a map of immutable objects under one mutex.
type memoryBackend struct {
	mu struct {
		sync.RWMutex
		objects map[string]*memObject
		keys    []string // the keys of objects, sorted: List reads a range of it
		version int64    // bumped on every write; makes ETags unique
		closed  bool
	}
}

type memObject struct {
	data    []byte
	etag    string
	modTime time.Time
	writeID string
}

var _ Backend = (*memoryBackend)(nil)

func newMemoryBackend() *memoryBackend {
	b := &memoryBackend{}
	b.mu.objects = map[string]*memObject{}
	return b
}

func (o *memObject) attrs() Attributes {
	return Attributes{Size: int64(len(o.data)), ETag: o.etag, ModTime: o.modTime, WriteID: o.writeID}
}

func (b *memoryBackend) lookup(key string) (*memObject, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.mu.closed {
		return nil, ErrClosed
	}
	o, ok := b.mu.objects[key]
	if !ok {
		return nil, ErrNotFound
	}
	return o, nil
}

func (b *memoryBackend) Get(_ context.Context, key string, offset, length int64) ([]byte, Attributes, error) {
	o, err := b.lookup(key)
	if err != nil {
		return nil, Attributes{}, err
	}
	part, err := sliceRange(o.data, offset, length)
	if err != nil {
		return nil, Attributes{}, err
	}
	return append([]byte(nil), part...), o.attrs(), nil
}

// sliceRange returns data[offset:offset+length], clipped to the end; length < 0 means
// to the end.
func sliceRange(data []byte, offset, length int64) ([]byte, error) {
	size := int64(len(data))
	if offset < 0 || offset > size {
		return nil, fmt.Errorf("%w: offset %d of a %d-byte object", ErrInvalidRange, offset, size)
	}
	end := size
	if length >= 0 && length < size-offset {
		end = offset + length
	}
	return data[offset:end], nil
}

func (b *memoryBackend) Head(_ context.Context, key string) (Attributes, error) {
	o, err := b.lookup(key)
	if err != nil {
		return Attributes{}, err
	}
	return o.attrs(), nil
}

func (b *memoryBackend) Put(_ context.Context, key string, data []byte, opts PutOptions) (Attributes, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mu.closed {
		return Attributes{}, ErrClosed
	}
	cur, exists := b.mu.objects[key]
	switch {
	case opts.IfNotExist && exists:
		return Attributes{}, fmt.Errorf("%w: object exists", ErrPreconditionFailed)
	case opts.IfMatch != "" && !exists:
		return Attributes{}, fmt.Errorf("%w: no object to match", ErrPreconditionFailed)
	case opts.IfMatch != "" && cur.etag != opts.IfMatch:
		return Attributes{}, fmt.Errorf("%w: ETag is %s, not %s", ErrPreconditionFailed, cur.etag, opts.IfMatch)
	}
	if !exists {
		i := sort.SearchStrings(b.mu.keys, key)
		b.mu.keys = slices.Insert(b.mu.keys, i, key)
	}
	b.mu.version++
	o := &memObject{
		data:    append([]byte(nil), data...),
		etag:    `"m` + strconv.FormatInt(b.mu.version, 10) + `"`,
		modTime: time.Now(),
		writeID: opts.WriteID,
	}
	b.mu.objects[key] = o
	return o.attrs(), nil
}

func (b *memoryBackend) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mu.closed {
		return ErrClosed
	}
	if _, ok := b.mu.objects[key]; ok {
		delete(b.mu.objects, key)
		i := sort.SearchStrings(b.mu.keys, key)
		b.mu.keys = slices.Delete(b.mu.keys, i, i+1)
	}
	return nil
}

func (b *memoryBackend) List(_ context.Context, opts ListOptions) (*ListResult, error) {
	b.mu.RLock()
	if b.mu.closed {
		b.mu.RUnlock()
		return nil, ErrClosed
	}
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	start := opts.Prefix
	if opts.PageToken > start {
		start = opts.PageToken + "\x00" // the smallest key after the token
	}
	var keys []string
	for _, k := range b.mu.keys[sort.SearchStrings(b.mu.keys, start):] {
		if !strings.HasPrefix(k, opts.Prefix) || len(keys) > opts.PageSize {
			break
		}
		keys = append(keys, k)
	}
	res := &ListResult{}
	for i, k := range keys {
		if i == opts.PageSize {
			res.NextPageToken = keys[i-1]
			break
		}
		o := b.mu.objects[k]
		res.Objects = append(res.Objects, ObjectInfo{Key: k, Size: int64(len(o.data)), ETag: o.etag, ModTime: o.modTime})
	}
	b.mu.RUnlock()
	return res, nil
}

func (b *memoryBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mu.closed = true
	return nil
}
