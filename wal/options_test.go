package wal

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultOptions(t *testing.T) {
	o := DefaultOptions("/tmp/x")
	if o.RootPath != "/tmp/x" || o.MaxSegmentSize != DefaultMaxSegmentSize ||
		o.MaxEntriesPerSegment != DefaultMaxEntriesPerSegment || o.MaxOpenSegments != DefaultMaxOpenSegments ||
		o.WriteBufferSize != DefaultWriteBufferSize || o.ReadBufferSize != DefaultReadBufferSize ||
		o.MinCompressionSize != DefaultMinCompressionSize || o.BlockCacheSize != 0 ||
		o.SyncMode != SyncStrict || o.Compression != CompressionNone || o.ReadStrategy != ReadStandardIO ||
		o.OnCorruption != OnCorruptionTruncate || o.Logger == nil {
		t.Fatalf("unexpected defaults: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureDefaultsKeepsSetFields(t *testing.T) {
	o := Options{RootPath: "r", MaxSegmentSize: 8 << 10, MaxOpenSegments: 3, SyncMode: SyncAsync}
	o.EnsureDefaults()
	if o.MaxSegmentSize != 8<<10 || o.MaxOpenSegments != 3 || o.SyncMode != SyncAsync ||
		o.WriteBufferSize != DefaultWriteBufferSize {
		t.Fatalf("EnsureDefaults changed set fields: %+v", o)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	o := Options{
		MaxSegmentSize:       1,
		MaxEntriesPerSegment: -1,
		MaxOpenSegments:      -2,
		WriteBufferSize:      -3,
		ReadBufferSize:       10,
		BlockCacheSize:       -1,
		SyncMode:             9,
		Compression:          9,
		MinCompressionSize:   -1,
		ReadStrategy:         9,
		OnCorruption:         9,
	}
	o.EnsureDefaults()
	err := o.Validate()
	var ce *ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate = %v, want *ConfigError", err)
	}
	for _, want := range []string{"RootPath", "MaxSegmentSize", "MaxEntriesPerSegment", "MaxOpenSegments",
		"WriteBufferSize", "ReadBufferSize", "BlockCacheSize", "SyncMode", "Compression",
		"MinCompressionSize", "ReadStrategy", "OnCorruption"} {
		found := false
		for _, p := range ce.Problems {
			found = found || strings.Contains(p, want)
		}
		if !found {
			t.Errorf("no problem reported for %s in %q", want, ce.Problems)
		}
	}
	if len(ce.Problems) != 12 {
		t.Errorf("got %d problems, want 12: %q", len(ce.Problems), ce.Problems)
	}
	if _, err := Open(o); !errors.Is(err, ErrConfig) {
		t.Fatalf("Open with bad options = %v, want ErrConfig", err)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{SyncStrict.String(), "Strict"}, {SyncBatchOnly.String(), "BatchOnly"}, {SyncAsync.String(), "Async"},
		{SyncMode(7).String(), "SyncMode(7)"},
		{CompressionNone.String(), "None"}, {CompressionLZ4.String(), "LZ4"}, {Compression(7).String(), "Compression(7)"},
		{ReadStandardIO.String(), "StandardIO"}, {ReadMmap.String(), "Mmap"}, {ReadStrategy(7).String(), "ReadStrategy(7)"},
		{OnCorruptionTruncate.String(), "Truncate"}, {OnCorruptionError.String(), "Error"},
		{OnCorruptionTruncateTornTail.String(), "TruncateTornTail"},
		{CorruptionPolicy(7).String(), "CorruptionPolicy(7)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
