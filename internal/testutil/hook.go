package testutil

import (
	"context"

	"github.com/isledb/isledb/blobstore"
)

// HookBackend calls Before ahead of every request it passes to the inner Backend, so a test
// can watch requests and hold one until the protocol under test has reached a given point
// (order by events, never by sleeping). Before is called with the operation ("get", "head",
// "put", "delete", "list") and the key (the prefix for a list); it may block. It must be set
// before the backend is used and is called concurrently from every request.
type HookBackend struct {
	blobstore.Backend
	Before func(op, key string)
}

var _ blobstore.Backend = (*HookBackend)(nil)

// Get implements blobstore.Backend.
func (h *HookBackend) Get(ctx context.Context, key string, offset, length int64) ([]byte, blobstore.Attributes, error) {
	h.Before("get", key)
	return h.Backend.Get(ctx, key, offset, length)
}

// Head implements blobstore.Backend.
func (h *HookBackend) Head(ctx context.Context, key string) (blobstore.Attributes, error) {
	h.Before("head", key)
	return h.Backend.Head(ctx, key)
}

// Put implements blobstore.Backend.
func (h *HookBackend) Put(ctx context.Context, key string, data []byte, opts blobstore.PutOptions) (blobstore.Attributes, error) {
	h.Before("put", key)
	return h.Backend.Put(ctx, key, data, opts)
}

// Delete implements blobstore.Backend.
func (h *HookBackend) Delete(ctx context.Context, key string) error {
	h.Before("delete", key)
	return h.Backend.Delete(ctx, key)
}

// List implements blobstore.Backend.
func (h *HookBackend) List(ctx context.Context, opts blobstore.ListOptions) (*blobstore.ListResult, error) {
	h.Before("list", opts.Prefix)
	return h.Backend.List(ctx, opts)
}
