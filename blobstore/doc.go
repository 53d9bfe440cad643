// Package blobstore is IsleDB's view of an object-store bucket: S3 (and S3-compatible
// servers such as MinIO), Google Cloud Storage, Azure Blob Storage, a local directory, or
// memory.
//
// A Store addresses objects by keys relative to its prefix, so several databases can share
// one bucket. It offers whole and ranged reads, plain writes, and the two conditional writes
// the rest of IsleDB is built on:
//
//   - WriteIfNotExist creates an object only if no object has the key (put-if-absent). Of
//     any number of concurrent callers, across processes and machines, exactly one wins;
//     the others get ErrPreconditionFailed.
//   - WriteIfMatch replaces an object only if its current ETag equals the given one
//     (compare-and-swap); otherwise, or if the object does not exist, ErrPreconditionFailed.
//
// Both are atomic on every backend: natively on S3 (If-None-Match / If-Match), GCS
// (generation preconditions) and Azure (ETag conditions), and on the file backend through
// link(2) and a per-key lock, which holds across processes on one machine.
//
// # Open a store
//
//	store, err := blobstore.Open(ctx, "s3://bucket?region=us-east-1", "db1") // S3
//	store, err := blobstore.Open(ctx, "gs://bucket", "db1")                  // GCS
//	store, err := blobstore.Open(ctx, "azblob://container", "db1")           // Azure
//	store, err := blobstore.NewFile(ctx, "./data", "db1")                    // local directory
//	store := blobstore.NewMemory("db1")                                      // tests
//
// S3-compatible servers are reached through the URL's query parameters, as in
// "s3://bucket?endpoint=http://127.0.0.1:9000&use_path_style=true&disable_https=true&region=us-east-1".
//
// # Keys
//
// Keys are '/'-separated paths of one or more segments. A segment is never empty, "." or
// "..", and keys never contain control characters, backslashes or the characters " # % ?,
// so that every backend stores a key exactly as given (no driver escapes it) and no key can
// leave the file backend's directory. Keys are at most MaxKeyLength bytes with the prefix;
// on the file backend each segment is a file name, of at most MaxFileSegmentLength bytes.
// Invalid keys and prefixes are rejected with an error wrapping ErrInvalidKey, and those
// too long for the backend with one wrapping ErrKeyTooLong (which wraps ErrInvalidKey).
//
// # Failures and retries
//
// Transient failures (HTTP 408/429/5xx, timeouts, connection resets) are retried with
// exponential backoff and full jitter; 404 and 412 never are. A conditional write is tagged
// with a unique write id in the object's metadata, so that when a retry meets a precondition
// failure because an earlier attempt of the same call did land (its reply was lost), the
// Store recognises the object as its own and reports success rather than a conflict.
//
// # Cost accounting
//
// Stats returns how many requests of each kind the Store sent (GET, ranged GET, HEAD, PUT,
// conditional PUT, LIST, DELETE) and the bytes moved. Every attempt counts, retries
// included, because every attempt is billed.
//
// A Store is safe for concurrent use.
package blobstore
