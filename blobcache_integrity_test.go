package isledb_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// blobCacheDamage is one way a file of the reader's blob cache can be damaged on disk.
type blobCacheDamage struct {
	name   string
	damage func(data []byte) []byte
}

var blobCacheDamages = []blobCacheDamage{
	{"flip", func(d []byte) []byte { d = bytes.Clone(d); d[len(d)/2] ^= 0x10; return d }},
	{"zero", func(d []byte) []byte { d = bytes.Clone(d); clear(d[100:200]); return d }},
	{"truncate", func(d []byte) []byte { return bytes.Clone(d[:len(d)-7]) }},
	{"extend", func(d []byte) []byte { return append(bytes.Clone(d), "trailing junk"...) }},
}

// blobIntegrityDB writes one key whose value is a blob and returns the store and the value.
func blobIntegrityDB(t *testing.T) (*blobstore.Store, []byte) {
	t.Helper()
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 4096)
	for i := range big {
		big[i] = byte(i*31 + i>>8)
	}
	if err := w.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return store, big
}

// cachedBlobFile returns the path of the only file in the reader's blob cache.
func cachedBlobFile(t *testing.T, cacheDir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cacheDir, "blob", "*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("blob cache files: %v, %v; want exactly one", files, err)
	}
	return files[0]
}

// blobReadPaths are the public ways a reader resolves a blob reference.
var blobReadPaths = []struct {
	name string
	read func(ctx context.Context, r *isledb.Reader) ([]byte, error)
}{
	{"Get", func(ctx context.Context, r *isledb.Reader) ([]byte, error) {
		v, ok, err := r.Get(ctx, []byte("big"))
		if err == nil && !ok {
			err = errors.New("not found")
		}
		return v, err
	}},
	{"Scan", func(ctx context.Context, r *isledb.Reader) ([]byte, error) {
		kvs, err := r.Scan(ctx, nil, nil)
		if err != nil {
			return nil, err
		}
		if len(kvs) != 1 {
			return nil, errors.New("scan: want one pair")
		}
		return kvs[0].Value, nil
	}},
	{"Changes", func(ctx context.Context, r *isledb.Reader) ([]byte, error) {
		var v []byte
		_, err := r.Changes(ctx, isledb.ChangeOptions{}, func(c isledb.Change) error {
			v = c.Value
			return nil
		})
		return v, err
	}},
}

// TestBlobCacheIntegrity: a blob whose cached file was damaged (a bit flipped, bytes
// zeroed, the file truncated or extended), while the reader is open or between two readers
// on one cache directory, is never returned: every read path (Get, Scan, Changes) returns
// the right value, fetched again from the bucket, and the cache file is replaced by a good
// copy. Default options: cached blobs are checked by length and SHA-256.
func TestBlobCacheIntegrity(t *testing.T) {
	ctx := context.Background()
	store, big := blobIntegrityDB(t)
	for _, d := range blobCacheDamages {
		for _, reopen := range []bool{false, true} {
			for _, p := range blobReadPaths {
				name := d.name + "/live/" + p.name
				if reopen {
					name = d.name + "/reopened/" + p.name
				}
				t.Run(name, func(t *testing.T) {
					cache := t.TempDir()
					ropts := isledb.ReaderOpenOptions{CacheDir: cache}
					r, err := isledb.OpenReader(ctx, store, ropts)
					if err != nil {
						t.Fatal(err)
					}
					defer func() { _ = r.Close() }()
					if v, err := p.read(ctx, r); err != nil || !bytes.Equal(v, big) {
						t.Fatalf("first read = %d bytes, %v", len(v), err)
					}
					file := cachedBlobFile(t, cache)
					if reopen {
						if err := r.Close(); err != nil {
							t.Fatal(err)
						}
					}
					if err := os.WriteFile(file, d.damage(big), 0o644); err != nil {
						t.Fatal(err)
					}
					if reopen {
						if r, err = isledb.OpenReader(ctx, store, ropts); err != nil {
							t.Fatal(err)
						}
					}
					misses := r.BlobCacheStats().Misses
					v, err := p.read(ctx, r)
					if err != nil || !bytes.Equal(v, big) {
						t.Fatalf("read after %s: %d bytes (want %d), equal %v, err %v", d.name, len(v), len(big), bytes.Equal(v, big), err)
					}
					if got := r.BlobCacheStats().Misses; got != misses+1 {
						t.Errorf("blob cache misses %d -> %d: the damaged copy was not fetched again", misses, got)
					}
					if data, err := os.ReadFile(cachedBlobFile(t, cache)); err != nil || !bytes.Equal(data, big) {
						t.Errorf("cache file after the read: %d bytes, %v; want the good copy", len(data), err)
					}
					// The next read is a plain hit on the good copy.
					hits := r.BlobCacheStats().Hits
					if v, err := p.read(ctx, r); err != nil || !bytes.Equal(v, big) {
						t.Fatalf("third read = %d bytes, %v", len(v), err)
					}
					if got := r.BlobCacheStats().Hits; got != hits+1 {
						t.Errorf("blob cache hits %d -> %d, want one more", hits, got)
					}
				})
			}
		}
	}
}

// TestBlobCacheIntegrityLengthOnly: with SkipCachedBlobHash, a cached blob of the wrong
// length is still dropped and fetched again.
func TestBlobCacheIntegrityLengthOnly(t *testing.T) {
	ctx := context.Background()
	store, big := blobIntegrityDB(t)
	for _, d := range blobCacheDamages[2:] { // truncate, extend
		t.Run(d.name, func(t *testing.T) {
			cache := t.TempDir()
			ropts := isledb.ReaderOpenOptions{CacheDir: cache}
			ropts.BlobReadOptions.SkipCachedBlobHash = true
			r, err := isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			if v, _, err := r.Get(ctx, []byte("big")); err != nil || !bytes.Equal(v, big) {
				t.Fatalf("first Get = %d bytes, %v", len(v), err)
			}
			_ = r.Close()
			file := cachedBlobFile(t, cache)
			if err := os.WriteFile(file, d.damage(big), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err = isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			if v, _, err := r.Get(ctx, []byte("big")); err != nil || !bytes.Equal(v, big) {
				t.Fatalf("Get after %s = %d bytes, %v", d.name, len(v), err)
			}
			if data, err := os.ReadFile(cachedBlobFile(t, cache)); err != nil || !bytes.Equal(data, big) {
				t.Errorf("cache file after the read: %d bytes, %v; want the good copy", len(data), err)
			}
		})
	}
}

// TestBlobCacheIntegrityBucketAlsoBad: when the cached copy and the bucket's are both
// damaged, the read fails with ErrCorruption and the damaged bytes are not returned.
func TestBlobCacheIntegrityBucketAlsoBad(t *testing.T) {
	ctx := context.Background()
	store, big := blobIntegrityDB(t)
	cache := t.TempDir()
	ropts := isledb.ReaderOpenOptions{CacheDir: cache}
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	if v, _, err := r.Get(ctx, []byte("big")); err != nil || !bytes.Equal(v, big) {
		t.Fatalf("first Get = %d bytes, %v", len(v), err)
	}
	bad := blobCacheDamages[0].damage(big)
	if err := os.WriteFile(cachedBlobFile(t, cache), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	blobs, err := store.ListBlobFiles(ctx)
	if err != nil || len(blobs) != 1 {
		t.Fatalf("ListBlobFiles = %v, %v", blobs, err)
	}
	if _, err := store.Write(ctx, blobs[0].Key, bad); err != nil {
		t.Fatal(err)
	}
	for _, p := range blobReadPaths {
		if v, err := p.read(ctx, r); !errors.Is(err, isledb.ErrCorruption) {
			t.Errorf("%s with both copies damaged = %d bytes, %v; want ErrCorruption", p.name, len(v), err)
		}
	}
}
