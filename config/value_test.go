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

func TestValidateFormatLimits(t *testing.T) {
	cases := []struct {
		key       int
		threshold int
		value     int64
		ok        bool
		inline    int64
	}{
		{key: KeySizeLimit, threshold: DefaultBlobThreshold, value: DefaultMaxValueSize, ok: true, inline: DefaultBlobThreshold - 1},
		{key: KeySizeLimit + 1, threshold: DefaultBlobThreshold, value: DefaultMaxValueSize},
		{key: 1, threshold: -1, value: InlineValueSizeLimit, ok: true, inline: InlineValueSizeLimit},
		{key: 1, threshold: -1, value: InlineValueSizeLimit + 1, inline: InlineValueSizeLimit + 1},
		{key: 1, threshold: InlineValueSizeLimit + 1, value: ValueSizeLimit, ok: true, inline: InlineValueSizeLimit},
		{key: 1, threshold: InlineValueSizeLimit + 2, value: ValueSizeLimit, inline: InlineValueSizeLimit + 1},
		{key: 1, threshold: 1 << 30, value: 1 << 20, inline: 1 << 20}, // threshold above MaxValueSize
		{key: 1, threshold: 1, value: ValueSizeLimit + 1},
	}
	for i, c := range cases {
		vc := ValueStorageConfig{ValueOptions: ValueOptions{MaxKeySize: c.key, BlobThreshold: c.threshold, MaxValueSize: c.value}}
		vc.EnsureDefaults()
		if err := vc.Validate(); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("case %d (%+v): Validate = %v, want ok %v", i, c, err, c.ok)
		}
		if c.inline != 0 && vc.MaxInlineValueSize() != c.inline {
			t.Errorf("case %d: MaxInlineValueSize = %d, want %d", i, vc.MaxInlineValueSize(), c.inline)
		}
	}
}
