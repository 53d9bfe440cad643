package blobstore

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob:// URLs
	_ "gocloud.dev/blob/gcsblob"   // gs:// URLs
	_ "gocloud.dev/blob/s3blob"    // s3:// URLs
)

// Open returns a Store for a bucket URL, with keys under prefix:
//
//   - s3://bucket?region=...: Amazon S3; S3-compatible servers through the endpoint,
//     use_path_style, disable_https and region parameters (gocloud.dev's s3blob).
//     Credentials come from the usual AWS sources (environment, profile, role).
//   - gs://bucket: Google Cloud Storage; STORAGE_EMULATOR_HOST selects an emulator.
//   - azblob://container: Azure Blob Storage; AZURE_STORAGE_ACCOUNT and friends, or the
//     domain and protocol parameters for an emulator.
//   - file:///path/to/dir (or file://./relative): NewFile on that directory.
//   - mem://: NewMemory (a new, empty store on every call).
//
// A "prefix" URL parameter is joined in front of prefix.
func Open(ctx context.Context, bucketURL, prefix string) (*Store, error) {
	u, err := url.Parse(bucketURL)
	if err != nil {
		return nil, fmt.Errorf("blobstore: open %q: %w", bucketURL, err)
	}
	q := u.Query()
	if p := q.Get("prefix"); p != "" {
		q.Del("prefix")
		u.RawQuery = q.Encode()
		prefix = strings.TrimSuffix(p, "/") + "/" + strings.TrimPrefix(prefix, "/")
		prefix = strings.TrimSuffix(prefix, "/")
	}
	if err := validatePrefix(prefix); err != nil {
		return nil, fmt.Errorf("blobstore: open %q: %w", bucketURL, err)
	}
	switch u.Scheme {
	case "mem":
		return NewMemory(prefix), nil
	case "file":
		dir := u.Path
		if u.Host != "" { // file://./data or file://relative/dir
			dir = u.Host + u.Path
		}
		return NewFile(ctx, dir, prefix)
	case "s3", "gs", "azblob":
		bkt, err := blob.OpenBucket(ctx, u.String())
		if err != nil {
			return nil, fmt.Errorf("blobstore: open %q: %w", bucketURL, err)
		}
		return NewWithBackendChecked(newGocloudBackend(bkt, u.Host), u.Host, prefix)
	default:
		return nil, fmt.Errorf("%w: %q (want s3, gs, azblob, file or mem)", ErrUnsupportedScheme, u.Scheme)
	}
}
