package isledb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

// TestIteratorKeepsVersion: an iterator sees the manifest version it started on, even
// after new flushes and a Refresh; a new iterator sees the new data.
func TestIteratorKeepsVersion(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeKeys(t, w, 0, 100)
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	it, err := r.NewIterator(ctx, isledb.IteratorOptions{MinKey: []byte("key-00050")})
	if err != nil {
		t.Fatal(err)
	}
	writeKeys(t, w, 100, 200)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Close(); err != nil || n != 50 {
		t.Fatalf("old iterator saw %d keys (%v), want 50", n, err)
	}
	kvs, err := r.Scan(ctx, []byte("key-00050"), nil)
	if err != nil || len(kvs) != 150 {
		t.Fatalf("after Refresh: %d keys, %v; want 150", len(kvs), err)
	}
	// Inclusive bounds, SeekGE inside and outside them.
	it, _ = r.NewIterator(ctx, isledb.IteratorOptions{MinKey: []byte("key-00010"), MaxKey: []byte("key-00019")})
	if !it.SeekGE([]byte("key-00015")) || string(it.Key()) != "key-00015" || string(it.Value()) != "val-00015" {
		t.Fatalf("SeekGE inside = %q", it.Key())
	}
	if !it.SeekGE([]byte("a")) || string(it.Key()) != "key-00010" {
		t.Fatalf("SeekGE below MinKey = %q, want key-00010", it.Key())
	}
	if it.SeekGE([]byte("key-00020")) || it.Valid() {
		t.Fatal("SeekGE above MaxKey is valid")
	}
	_ = it.Close()
	if _, err := r.NewIterator(ctx, isledb.IteratorOptions{MinKey: []byte("b"), MaxKey: []byte("a")}); !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("MinKey > MaxKey: %v", err)
	}
}

// testSigner is a trivial signer for testing the verification hook.
type testSigner struct{ key byte }

func (s testSigner) Algorithm() string { return "xor-test" }
func (s testSigner) KeyID() string     { return "k1" }
func (s testSigner) SignHash(h []byte) ([]byte, error) {
	out := bytes.Clone(h)
	for i := range out {
		out[i] ^= s.key
	}
	return out, nil
}

type testVerifier struct{ key byte }

func (v testVerifier) VerifyHash(h []byte, sig manifest.SSTSignature) error {
	want, _ := testSigner(v).SignHash(h)
	if sig.KeyID != "k1" || !bytes.Equal(sig.Signature, want) {
		return errors.New("bad signature")
	}
	return nil
}

// TestSignedSSTs: a writer with a signer records signatures; a reader with a verifier
// reads signed SSTs and refuses SSTs signed with another key or not at all.
func TestSignedSSTs(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.Signer = testSigner{key: 7}
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeKeys(t, w, 0, 10)
	_ = w.Close()
	open := func(v isledb.SSTHashVerifier) *isledb.Reader {
		r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir(), SSTHashVerifier: v})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	if sig := open(nil).Manifest().L0SSTs[0].Signature; sig == nil || sig.Algorithm != "xor-test" || sig.KeyID != "k1" {
		t.Fatalf("signature in the manifest = %+v", sig)
	}
	if v, ok, err := open(testVerifier{key: 7}).Get(ctx, []byte("key-00003")); err != nil || !ok || string(v) != "val-00003" {
		t.Fatalf("verified read = %q, %v, %v", v, ok, err)
	}
	if _, _, err := open(testVerifier{key: 8}).Get(ctx, []byte("key-00003")); err == nil {
		t.Fatal("an SST signed with another key was read")
	}
	// An unsigned SST is refused by a verifying reader.
	w2, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	writeKeys(t, w2, 10, 20)
	_ = w2.Close()
	if _, _, err := open(testVerifier{key: 7}).Get(ctx, []byte("key-00015")); err == nil {
		t.Fatal("an unsigned SST was read by a verifying reader")
	}
}

// TestBlobVerification: a corrupted blob in the bucket is refused; with
// VerifyBlobsOnRead a corrupted cached copy is detected and fetched again.
func TestBlobVerification(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := isledb.DefaultWriterOptions()
	opts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789"), 20)
	if err := w.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	blobs, _ := store.ListBlobFiles(ctx)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs, want 1", len(blobs))
	}
	cache := t.TempDir()
	ropts := isledb.ReaderOpenOptions{CacheDir: cache}
	ropts.BlobReadOptions.VerifyBlobsOnRead = true
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := r.Get(ctx, []byte("big")); err != nil || !ok || !bytes.Equal(v, big) {
		t.Fatalf("Get(big) = %d bytes, %v, %v", len(v), ok, err)
	}
	_ = r.Close()
	// Corrupt the cached copy: VerifyBlobsOnRead catches it and refetches.
	cached, _ := filepath.Glob(filepath.Join(cache, "blob", "*"))
	for _, f := range cached {
		_ = os.WriteFile(f, bytes.Repeat([]byte("X"), len(big)), 0o644)
	}
	r, _ = isledb.OpenReader(ctx, store, ropts)
	if v, ok, err := r.Get(ctx, []byte("big")); err != nil || !ok || !bytes.Equal(v, big) {
		t.Fatalf("Get(big) with a corrupt cached copy = %.10q, %v, %v", v, ok, err)
	}
	_ = r.Close()
	// Corrupt the blob in the bucket: a fresh reader refuses it.
	if _, err := store.Write(ctx, blobs[0].Key, bytes.Repeat([]byte("Y"), len(big))); err != nil {
		t.Fatal(err)
	}
	r, _ = isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	defer r.Close()
	if _, _, err := r.Get(ctx, []byte("big")); !errors.Is(err, isledb.ErrCorruption) {
		t.Fatalf("Get of a corrupt blob: %v, want ErrCorruption", err)
	}
}

// TestValidateCachedSST: with ValidateSSTChecksum, a corrupted SST in the disk cache is
// detected and downloaded again.
func TestValidateCachedSST(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   isledb.ReaderOpenOptions
		verify bool
	}{
		{"zero value", isledb.ReaderOpenOptions{}, true}, // the safe default needs no flag
		{"seed flag", isledb.ReaderOpenOptions{ValidateSSTChecksum: true}, true},
		{"defaults", isledb.DefaultReaderOpenOptions(), true},
		{"disabled", isledb.ReaderOpenOptions{DisableSSTChecksum: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := blobstore.NewMemory("db")
			db := openTestDB(t, store)
			w, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
			writeKeys(t, w, 0, 500)
			_ = w.Close()
			cache := t.TempDir()
			ropts := tc.opts
			ropts.CacheDir = cache
			r, err := isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := r.Get(ctx, []byte("key-00001")); !ok || err != nil {
				t.Fatal(ok, err)
			}
			_ = r.Close()
			files, _ := filepath.Glob(filepath.Join(cache, "sst", "*"))
			if len(files) != 1 {
				t.Fatalf("%d cached SSTs, want 1", len(files))
			}
			data, _ := os.ReadFile(files[0])
			data[len(data)/2] ^= 1
			_ = os.WriteFile(files[0], data, 0o644)
			r, err = isledb.OpenReader(ctx, store, ropts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			before := store.Stats()
			for i := range 500 {
				k := fmt.Appendf(nil, "key-%05d", i)
				v, ok, err := r.Get(ctx, k)
				if !tc.verify {
					continue // the damaged copy is trusted: what a Get returns is not checked
				}
				if err != nil || !ok || string(v) != fmt.Sprintf("val-%05d", i) {
					t.Fatalf("Get(%s) = %q, %v, %v", k, v, ok, err)
				}
			}
			d := store.Stats().Sub(before)
			if tc.verify && d.Gets != 1 {
				t.Fatalf("the corrupt cached SST was not downloaded again (GETs: %d)", d.Gets)
			}
			if !tc.verify && d.Gets != 0 {
				t.Fatalf("DisableSSTChecksum: the cached SST was checked and fetched again (GETs: %d)", d.Gets)
			}
		})
	}
}

// TestTwoPrefixesIsolated: two databases in one bucket do not see each other.
func TestTwoPrefixesIsolated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, _ := blobstore.NewFile(ctx, dir, "a")
	b, _ := blobstore.NewFile(ctx, dir, "b")
	for _, s := range []*blobstore.Store{a, b} {
		db := openTestDB(t, s)
		w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Put([]byte("who"), []byte(s.Prefix()))
		_ = w.Close()
	}
	for _, s := range []*blobstore.Store{a, b} {
		r, _ := isledb.OpenReader(ctx, s, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
		v, ok, err := r.Get(ctx, []byte("who"))
		_ = r.Close()
		if err != nil || !ok || string(v) != s.Prefix() {
			t.Fatalf("prefix %s reads %q, %v, %v", s.Prefix(), v, ok, err)
		}
	}
}
