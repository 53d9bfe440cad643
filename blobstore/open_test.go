package blobstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb/blobstore"
)

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	s, err := blobstore.Open(ctx, "file://"+dir+"?prefix=outer", "db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Prefix() != "outer/db" {
		t.Fatalf("prefix %q, want outer/db", s.Prefix())
	}
	if _, err := s.Write(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "outer", "db", "k")); err != nil {
		t.Fatalf("file store did not write dir/outer/db/k: %v", err)
	}
	m, err := blobstore.Open(ctx, "mem://", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Write(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := blobstore.Open(ctx, "ftp://x", ""); !errors.Is(err, blobstore.ErrUnsupportedScheme) {
		t.Fatalf("ftp: %v, want ErrUnsupportedScheme", err)
	}
	if _, err := blobstore.Open(ctx, "file://"+dir, "../escape"); !errors.Is(err, blobstore.ErrInvalidKey) {
		t.Fatalf("escaping prefix: %v, want ErrInvalidKey", err)
	}
	if _, err := blobstore.NewFile(ctx, dir, "a/../../b"); !errors.Is(err, blobstore.ErrInvalidKey) {
		t.Fatalf("NewFile with escaping prefix: %v", err)
	}
	// Use after close.
	_ = s.Close()
	if _, _, err := s.Read(ctx, "k"); !errors.Is(err, blobstore.ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
}

// TestFileReservedName: with no prefix, the file store's own directory is not a key.
func TestFileReservedName(t *testing.T) {
	s, err := blobstore.NewFile(ctx, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(ctx, ".isledb-tmp/locks/00", []byte("x")); !errors.Is(err, blobstore.ErrInvalidKey) {
		t.Fatalf("write into the reserved directory: %v, want ErrInvalidKey", err)
	}
	if _, err := s.Write(ctx, "a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListAll(ctx, "")
	if err != nil || len(all) != 1 || all[0].Key != "a" {
		t.Fatalf("listing shows %v, %v; want only a", all, err)
	}
}
