package kv_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb/kv"
)

// flipByte flips one byte in the middle of the file at path.
func flipByte(t *testing.T, path string, at func(size int64) int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at(int64(len(b)))] ^= 0x5A
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestValidateIntegrity(t *testing.T) {
	s, o := openTest(t, func(o *kv.Options) { o.CompressionLevel = -1 })
	for i := range 2000 {
		if err := s.PutString([]byte(fmt.Sprintf("key-%05d", i)), fmt.Sprintf("value-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Flush()
	for i := range 10 {
		_ = s.PutInt64([]byte(fmt.Sprintf("unflushed-%d", i)), int64(i))
	}
	rep, err := s.ValidateIntegrity()
	if err != nil || !rep.ManifestOK || rep.SSTsChecked == 0 || rep.WALRecords < 10 || len(rep.Damaged) != 0 {
		t.Fatalf("clean store: %+v, %v", rep, err)
	}
	ssts, _ := filepath.Glob(filepath.Join(o.Dir, "data", "kv", "sst", "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no SST files found")
	}
	flipByte(t, ssts[0], func(n int64) int64 { return n / 4 }) // in a data block
	rep, err = s.ValidateIntegrity()
	var ie *kv.IntegrityError
	if !errors.Is(err, kv.ErrCorruptedData) || !errors.As(err, &ie) || len(rep.Damaged) != 1 || rep.Damaged[0].Kind != "sst" {
		t.Fatalf("damaged SST: %+v, %v", rep, err)
	}
	if !errors.Is(rep.Damaged[0].Err, kv.ErrChecksumMismatch) {
		t.Fatalf("a flipped byte in a data block: %v, want ErrChecksumMismatch", rep.Damaged[0].Err)
	}
	t.Logf("reported: %v", err)
	// A read of the damaged block fails with a typed error rather than returning garbage.
	bad := 0
	for i := range 2000 {
		_, err := s.GetString([]byte(fmt.Sprintf("key-%05d", i)))
		if err != nil {
			if !errors.Is(err, kv.ErrCorruptedData) {
				t.Fatalf("Get in a damaged SST: %v, want ErrCorruptedData", err)
			}
			bad++
		}
	}
	if bad == 0 {
		t.Fatal("no Get noticed the damaged block")
	}
	// A missing SST is reported too.
	if err := os.Remove(ssts[0]); err != nil {
		t.Fatal(err)
	}
	if rep, err = s.ValidateIntegrity(); err == nil || len(rep.Damaged) != 1 {
		t.Fatalf("missing SST: %+v, %v", rep, err)
	}
}
