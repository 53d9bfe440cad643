package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// New returns a Store over an open gocloud.dev bucket, with keys under prefix. bucketName
// is the bucket's (or Azure container's) name, needed for S3 and GCS requests that bypass
// gocloud. Open the bucket without a "prefix" URL parameter: pass the prefix here.
//
// On S3, GCS and Azure buckets every operation, conditional writes included, is atomic
// across processes. On other gocloud drivers (memblob, fileblob, ...) WriteIfMatch is
// atomic only within this process and Write costs an extra HEAD: prefer NewMemory and
// NewFile for those.
func New(bkt *blob.Bucket, bucketName, prefix string) *Store {
	return NewWithBackend(newGocloudBackend(bkt, bucketName), bucketName, prefix)
}

// nativeClient performs, with a cloud SDK's own client, what gocloud cannot: conditional
// writes whose reply carries the new ETag, and reading ETags and write ids.
type nativeClient interface {
	put(ctx context.Context, key string, data []byte, opts PutOptions) (Attributes, error)
	// readerETag returns the ETag and generation of an open reader.
	readerETag(r *blob.Reader) (string, int64)
	// attrsETag returns the ETag and generation of gocloud attributes.
	attrsETag(a *blob.Attributes) (string, int64)
	// delete removes key, succeeding if it is missing; nil means: use gocloud.
	delete(ctx context.Context, key string) (handled bool, err error)
}

// writeIDMetadataKey names the metadata entry holding a conditional write's id. It is a
// valid Azure metadata name (no hyphens) and lowercase, as gocloud reports keys.
const writeIDMetadataKey = "isledbwriteid"

type gocloudBackend struct {
	bkt    *blob.Bucket
	native nativeClient
}

var _ Backend = (*gocloudBackend)(nil)

func newGocloudBackend(bkt *blob.Bucket, bucketName string) *gocloudBackend {
	return &gocloudBackend{bkt: bkt, native: detectNative(bkt, bucketName)}
}

// detectNative picks the SDK client under bkt, or a portable fallback.
func detectNative(bkt *blob.Bucket, bucketName string) nativeClient {
	if c := s3Native(bkt, bucketName); c != nil {
		return c
	}
	if c := gcsNative(bkt, bucketName); c != nil {
		return c
	}
	if c := azureNative(bkt); c != nil {
		return c
	}
	return &portableNative{bkt: bkt}
}

// mapErr turns gocloud error codes into the package's sentinels.
func mapErr(err error) error {
	switch gcerrors.Code(err) {
	case gcerrors.OK:
		return nil
	case gcerrors.NotFound:
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case gcerrors.FailedPrecondition:
		return fmt.Errorf("%w: %v", ErrPreconditionFailed, err)
	}
	return err
}

func (b *gocloudBackend) Get(ctx context.Context, key string, offset, length int64) ([]byte, Attributes, error) {
	if offset < 0 {
		return nil, Attributes{}, fmt.Errorf("%w: offset %d", ErrInvalidRange, offset)
	}
	r, err := b.bkt.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		if offset > 0 && isRangeNotSatisfiable(err) {
			return b.emptyOrInvalid(ctx, key, offset)
		}
		return nil, Attributes{}, mapErr(err)
	}
	defer r.Close()
	n := r.Size() - offset
	if length >= 0 && length < n {
		n = length
	}
	buf := make([]byte, max(n, 0))
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, Attributes{}, fmt.Errorf("read body: %w", err)
	}
	etag, gen := b.native.readerETag(r)
	return buf, Attributes{Size: r.Size(), ETag: etag, ModTime: r.ModTime(), Generation: gen}, nil
}

// isRangeNotSatisfiable reports an HTTP 416: the offset is at or past the end.
func isRangeNotSatisfiable(err error) bool {
	code, ok := httpStatus(err)
	return ok && code == 416
}

// emptyOrInvalid answers a range read the server refused with 416: an offset equal to
// the size reads nothing; one past it is invalid.
func (b *gocloudBackend) emptyOrInvalid(ctx context.Context, key string, offset int64) ([]byte, Attributes, error) {
	a, err := b.Head(ctx, key)
	if err != nil {
		return nil, Attributes{}, err
	}
	if offset == a.Size {
		return []byte{}, a, nil
	}
	return nil, Attributes{}, fmt.Errorf("%w: offset %d of a %d-byte object", ErrInvalidRange, offset, a.Size)
}

func (b *gocloudBackend) Head(ctx context.Context, key string) (Attributes, error) {
	a, err := b.bkt.Attributes(ctx, key)
	if err != nil {
		return Attributes{}, mapErr(err)
	}
	etag, gen := b.native.attrsETag(a)
	return Attributes{Size: a.Size, ETag: etag, ModTime: a.ModTime, Generation: gen, WriteID: a.Metadata[writeIDMetadataKey]}, nil
}

func (b *gocloudBackend) Put(ctx context.Context, key string, data []byte, opts PutOptions) (Attributes, error) {
	return b.native.put(ctx, key, data, opts)
}

func (b *gocloudBackend) Delete(ctx context.Context, key string) error {
	if handled, err := b.native.delete(ctx, key); handled {
		return err
	}
	if err := b.bkt.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return mapErr(err)
	}
	return nil
}

func (b *gocloudBackend) List(ctx context.Context, opts ListOptions) (*ListResult, error) {
	token := blob.FirstPageToken
	if opts.PageToken != "" {
		token = []byte(opts.PageToken)
	}
	objs, next, err := b.bkt.ListPage(ctx, token, opts.PageSize, &blob.ListOptions{Prefix: opts.Prefix})
	if err != nil {
		return nil, mapErr(err)
	}
	res := &ListResult{Objects: make([]ObjectInfo, 0, len(objs))}
	for _, o := range objs {
		if o.IsDir {
			continue
		}
		res.Objects = append(res.Objects, ObjectInfo{Key: o.Key, Size: o.Size, ModTime: o.ModTime, ETag: listETag(o)})
	}
	if len(next) > 0 {
		res.NextPageToken = string(next)
	}
	return res, nil
}

// listETag returns a listed object's ETag where the driver exposes it.
func listETag(o *blob.ListObject) string {
	if len(o.MD5) > 0 {
		return fmt.Sprintf("%x", o.MD5)
	}
	return ""
}

func (b *gocloudBackend) Close() error { return b.bkt.Close() }

// portableNative serves gocloud drivers without a known SDK client. IfNotExist is native
// to gocloud; IfMatch is checked under a process-wide lock.
type portableNative struct {
	bkt   *blob.Bucket
	locks [fileLockStripes]sync.Mutex
}

func (p *portableNative) lock(key string) *sync.Mutex {
	var h uint32
	for i := 0; i < len(key); i++ {
		h = h*31 + uint32(key[i])
	}
	return &p.locks[h%fileLockStripes]
}

func (p *portableNative) put(ctx context.Context, key string, data []byte, opts PutOptions) (Attributes, error) {
	m := p.lock(key)
	m.Lock()
	defer m.Unlock()
	if opts.IfMatch != "" {
		a, err := p.bkt.Attributes(ctx, key)
		if gcerrors.Code(err) == gcerrors.NotFound {
			return Attributes{}, fmt.Errorf("%w: no object to match", ErrPreconditionFailed)
		}
		if err != nil {
			return Attributes{}, mapErr(err)
		}
		if a.ETag != opts.IfMatch {
			return Attributes{}, fmt.Errorf("%w: ETag is %s, not %s", ErrPreconditionFailed, a.ETag, opts.IfMatch)
		}
	}
	wo := &blob.WriterOptions{ContentType: "application/octet-stream", IfNotExist: opts.IfNotExist}
	if opts.WriteID != "" {
		wo.Metadata = map[string]string{writeIDMetadataKey: opts.WriteID}
	}
	if err := p.bkt.Upload(ctx, key, strings.NewReader(string(data)), wo); err != nil {
		return Attributes{}, mapErr(err)
	}
	a, err := p.bkt.Attributes(ctx, key)
	if err != nil {
		return Attributes{}, mapErr(err)
	}
	return Attributes{Size: a.Size, ETag: a.ETag, ModTime: a.ModTime, WriteID: opts.WriteID}, nil
}

func (p *portableNative) readerETag(*blob.Reader) (string, int64)      { return "", 0 }
func (p *portableNative) attrsETag(a *blob.Attributes) (string, int64) { return a.ETag, 0 }
func (p *portableNative) delete(context.Context, string) (bool, error) { return false, nil }

// parseGeneration reads a GCS ETag, which this package makes the generation in decimal.
func parseGeneration(etag string) (int64, error) {
	g, err := strconv.ParseInt(strings.Trim(etag, `"`), 10, 64)
	if err != nil || g <= 0 {
		return 0, errors.New("not a GCS generation")
	}
	return g, nil
}
