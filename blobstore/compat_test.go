package blobstore_test

import (
	"errors"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// TestWriteIfMatchEmptyCreates: WriteIfMatch with an empty ETag creates an absent object
// and fails with ErrPreconditionFailed on an existing one, on every backend (the original
// isledb's meaning of "").
func TestWriteIfMatchEmptyCreates(t *testing.T) {
	testutil.ForEach(t, testutil.All, func(t *testing.T, b testutil.Backend) {
		s := b.Open(t)
		a, err := s.WriteIfMatch(ctx, "new", []byte("v1"), "")
		if err != nil {
			t.Fatalf("WriteIfMatch(\"\") on an absent key: %v, want it created", err)
		}
		if got, ra := mustRead(t, s, "new"); string(got) != "v1" || ra.ETag != a.ETag {
			t.Fatalf("read %q (ETag %s), want v1 (ETag %s)", got, ra.ETag, a.ETag)
		}
		if _, err := s.WriteIfMatch(ctx, "new", []byte("v2"), ""); !errors.Is(err, blobstore.ErrPreconditionFailed) {
			t.Fatalf("WriteIfMatch(\"\") on an existing key: %v, want ErrPreconditionFailed", err)
		}
		if got, _ := mustRead(t, s, "new"); string(got) != "v1" {
			t.Fatalf("after a refused create: %q, want v1", got)
		}
	})
}

// TestBatchDeleteSkipsEmptyKeys: empty keys in a BatchDelete are skipped, and the other
// keys deleted, without an error.
func TestBatchDeleteSkipsEmptyKeys(t *testing.T) {
	testutil.ForEach(t, testutil.All, func(t *testing.T, b testutil.Backend) {
		s := b.Open(t)
		mustWrite(t, s, "a", []byte("1"))
		mustWrite(t, s, "b", []byte("2"))
		if err := s.BatchDelete(ctx, []string{"", "a", "", "b", "missing"}); err != nil {
			t.Fatalf("BatchDelete with empty keys: %v", err)
		}
		for _, k := range []string{"a", "b"} {
			if ok, err := s.Exists(ctx, k); err != nil || ok {
				t.Fatalf("%s exists %v (%v) after BatchDelete", k, ok, err)
			}
		}
		var be *blobstore.BatchDeleteError
		if err := s.BatchDelete(ctx, []string{"", "bad//key"}); !errors.As(err, &be) || len(be.Failed) != 1 {
			t.Fatalf("BatchDelete of an invalid key: %v, want a BatchDeleteError naming it alone", err)
		}
	})
}
