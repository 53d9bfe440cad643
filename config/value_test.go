package config

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultsAndValidate(t *testing.T) {
	c := DefaultValueStorageConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.MaxKeySize != DefaultMaxKeySize || c.BlobThreshold != DefaultBlobThreshold || c.MaxValueSize != DefaultMaxValueSize || c.MinAge != DefaultGCMinAge {
		t.Fatalf("defaults = %+v", c)
	}
	if !c.StoresAsBlob(DefaultBlobThreshold) || c.StoresAsBlob(DefaultBlobThreshold-1) {
		t.Fatal("StoresAsBlob threshold wrong")
	}
	bad := ValueStorageConfig{ValueOptions: ValueOptions{MaxKeySize: -1, MaxValueSize: -5}, BlobGCOptions: BlobGCOptions{MinAge: -1}}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate = %v", err)
	}
	for _, want := range []string{"MaxKeySize", "MaxValueSize", "MinAge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s: Validate must report every violation", err, want)
		}
	}
	off := ValueOptions{BlobThreshold: -1}
	if off.StoresAsBlob(1 << 30) {
		t.Fatal("negative threshold must disable blobs")
	}
}
