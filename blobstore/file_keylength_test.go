package blobstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isledb/isledb/blobstore"
)

// keyLengthChecks runs every keyed operation of s on key and returns their errors.
func keyLengthChecks(s *blobstore.Store, key string) map[string]error {
	checks := map[string]error{}
	_, checks["Write"] = s.Write(ctx, key, []byte("x"))
	_, checks["WriteIfNotExist"] = s.WriteIfNotExist(ctx, key, []byte("x"))
	_, checks["WriteIfMatch"] = s.WriteIfMatch(ctx, key, []byte("x"), `"e"`)
	_, _, checks["Read"] = s.Read(ctx, key)
	_, checks["ReadRange"] = s.ReadRange(ctx, key, 0, 1)
	_, checks["Attributes"] = s.Attributes(ctx, key)
	_, checks["Exists"] = s.Exists(ctx, key)
	checks["Delete"] = s.Delete(ctx, key)
	return checks
}

// checkKeyTooLong wants err to be a blobstore error wrapping ErrKeyTooLong (and
// ErrInvalidKey) that names key, not the operating system's bare "file name too long".
func checkKeyTooLong(t *testing.T, op, key string, err error) {
	t.Helper()
	switch {
	case !errors.Is(err, blobstore.ErrKeyTooLong) || !errors.Is(err, blobstore.ErrInvalidKey):
		t.Errorf("%s(%d-byte key): %s; want ErrKeyTooLong and ErrInvalidKey", op, len(key), shortErr(err))
	case !strings.Contains(err.Error(), key):
		t.Errorf("%s: error does not name the key: %s", op, shortErr(err))
	case strings.Contains(err.Error(), "file name too long"):
		t.Errorf("%s: the operating system's error leaks: %s", op, shortErr(err))
	}
}

// shortErr abbreviates the long keys in an error message.
func shortErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	for _, c := range "abcdkpz" {
		long := strings.Repeat(string(c), 40)
		for strings.Contains(s, long+string(c)) {
			s = strings.ReplaceAll(s, long+string(c), long)
		}
		s = strings.ReplaceAll(s, long, string(c)+"…")
	}
	return s
}

// TestFileKeySegmentTooLong: on the file backend a key segment is a file name, which holds
// at most 255 bytes. A longer segment is refused by every operation with ErrKeyTooLong
// naming the key, and nothing is written; a 255-byte segment works.
func TestFileKeySegmentTooLong(t *testing.T) {
	dir := t.TempDir()
	s, err := blobstore.NewFile(ctx, dir, "db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, key := range []string{
		"blob/" + strings.Repeat("a", 300),
		strings.Repeat("b", 256),
		strings.Repeat("c", 300) + "/x",
		"x/" + strings.Repeat("é", 128) + "/y", // 256 bytes, 128 characters
	} {
		for op, err := range keyLengthChecks(s, key) {
			checkKeyTooLong(t, op, key, err)
		}
	}
	for _, prefix := range []string{strings.Repeat("p", 300) + "/", "a/" + strings.Repeat("p", 300)} {
		if _, err := s.List(ctx, blobstore.ListOptions{Prefix: prefix}); true {
			checkKeyTooLong(t, "List", prefix, err)
		}
	}
	// Nothing was left behind.
	objs, err := s.ListAll(ctx, "")
	if err != nil || len(objs) != 0 {
		t.Fatalf("ListAll = %v, %v; want nothing", objs, err)
	}
	// The longest segment a file name holds is fine.
	ok := "blob/" + strings.Repeat("z", 255)
	if _, err := s.Write(ctx, ok, []byte("v")); err != nil {
		t.Fatalf("Write of a 255-byte segment: %v", err)
	}
	if data, _, err := s.Read(ctx, ok); err != nil || string(data) != "v" {
		t.Fatalf("Read of a 255-byte segment = %q, %v", data, err)
	}
	if err := s.Delete(ctx, ok); err != nil {
		t.Fatal(err)
	}
}

// TestFilePrefixSegmentTooLong: a store prefix with a segment too long for a file name is
// refused by NewFile.
func TestFilePrefixSegmentTooLong(t *testing.T) {
	prefix := "outer/" + strings.Repeat("p", 300)
	_, err := blobstore.NewFile(ctx, t.TempDir(), prefix)
	checkKeyTooLong(t, "NewFile", prefix, err)
	t.Logf("NewFile: %s", shortErr(err))
}

// TestFilePathTooLong: a key whose segments are each short enough but whose whole path
// under a deep directory exceeds what the operating system accepts (PATH_MAX) gets
// ErrKeyTooLong naming the key too.
func TestFilePathTooLong(t *testing.T) {
	// A directory about 3,300 bytes deep; with a 1,000-byte key the path exceeds 4,096.
	dir := t.TempDir()
	for len(dir) < 3300 {
		dir = filepath.Join(dir, strings.Repeat("d", 200))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make a deep directory: %v", err)
	}
	s, err := blobstore.NewFile(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var segs []string
	for range 5 {
		segs = append(segs, strings.Repeat("k", 199))
	}
	key := strings.Join(segs, "/")
	for op, err := range keyLengthChecks(s, key) {
		checkKeyTooLong(t, op, key, err)
	}
}
