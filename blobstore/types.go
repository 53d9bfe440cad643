package blobstore

import "time"

// Attributes describes a stored object.
type Attributes struct {
	// Size is the object's length in bytes.
	Size int64
	// ETag identifies the object's current version; pass it to WriteIfMatch. Its format is
	// the backend's (S3 quotes an MD5, Azure a server value). On GCS, whose ETags repeat
	// for equal content, the ETag is the object's generation in decimal, so that
	// compare-and-swap can never succeed against a replaced object with equal content.
	ETag string
	// ModTime is when the object was last written.
	ModTime time.Time
	// Generation is the GCS object generation; 0 on other backends.
	Generation int64
	// WriteID is the unique id the Store tagged a conditional write with, when the backend
	// reports it (returned by Attributes); empty for other objects.
	WriteID string
}

// ObjectInfo is one object of a listing. Key is relative to the Store's prefix.
type ObjectInfo struct {
	Key     string
	Size    int64
	ETag    string
	ModTime time.Time
}

// ListOptions selects one page of a listing.
type ListOptions struct {
	// Prefix restricts the listing to keys that start with it (relative to the Store's
	// prefix). Empty lists everything under the Store's prefix.
	Prefix string
	// PageSize is the most objects one page holds. Default (0): 1000.
	PageSize int
	// PageToken continues a listing from the NextPageToken of the previous page.
	PageToken string
}

// ListResult is one page of a listing, in ascending key order.
type ListResult struct {
	Objects []ObjectInfo
	// NextPageToken is non-empty when more objects follow; pass it as
	// ListOptions.PageToken to get them.
	NextPageToken string
}

// PutOptions are the conditions of a Backend Put.
type PutOptions struct {
	// IfNotExist makes the write fail with ErrPreconditionFailed if an object exists.
	IfNotExist bool
	// IfMatch, when non-empty, makes the write fail with ErrPreconditionFailed unless the
	// object exists with this ETag.
	IfMatch string
	// WriteID, when non-empty, is stored with the object so Head can report it.
	WriteID string
}

// conditional reports whether the options carry a condition.
func (o PutOptions) conditional() bool { return o.IfNotExist || o.IfMatch != "" }
