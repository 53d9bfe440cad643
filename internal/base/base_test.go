package base

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestCompareInternal(t *testing.T) {
	tests := []struct {
		aKey string
		aSeq SeqNum
		bKey string
		bSeq SeqNum
		want int
	}{
		{"a", 1, "b", 1, -1},
		{"b", 1, "a", 9, 1},
		{"a", 5, "a", 3, -1}, // newer first
		{"a", 3, "a", 5, 1},
		{"a", 3, "a", 3, 0},
		{"", 0, "", 0, 0},
		{"", 0, "a", SeqNumMax, -1},
		{"ab", 1, "a", 1, 1},
	}
	for _, tt := range tests {
		got := CompareInternal([]byte(tt.aKey), tt.aSeq, []byte(tt.bKey), tt.bSeq)
		if got != tt.want {
			t.Errorf("CompareInternal(%q#%d, %q#%d) = %d, want %d", tt.aKey, tt.aSeq, tt.bKey, tt.bSeq, got, tt.want)
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		k     Kind
		valid bool
		name  string
	}{
		{KindDelete, true, "delete"},
		{KindValue, true, "value"},
		{KindBlobRef, true, "blobref"},
		{3, false, "kind(3)"},
		{255, false, "kind(255)"},
	}
	for _, tt := range tests {
		if tt.k.Valid() != tt.valid || tt.k.String() != tt.name {
			t.Errorf("Kind(%d): Valid=%v String=%q, want %v %q", tt.k, tt.k.Valid(), tt.k.String(), tt.valid, tt.name)
		}
	}
	// The numeric values are on disk: they must never change.
	if KindDelete != 0 || KindValue != 1 || KindBlobRef != 2 {
		t.Fatal("frozen Kind values changed")
	}
	if SeqNumMax != 1<<56-1 {
		t.Fatal("frozen SeqNumMax changed")
	}
}

func TestCorruptionError(t *testing.T) {
	err := CorruptionErrorf("sst/1.sst", 4096, "bad checksum %x", 0xab)
	if !errors.Is(err, ErrCorruption) || !IsCorruption(err) {
		t.Fatal("CorruptionErrorf result does not match ErrCorruption")
	}
	wrapped := fmt.Errorf("reading block: %w", err)
	var ce *CorruptionError
	if !errors.As(wrapped, &ce) || ce.Object != "sst/1.sst" || ce.Offset != 4096 {
		t.Fatalf("errors.As lost the object/offset: %+v", ce)
	}
	if want := "isledb: corruption in sst/1.sst at offset 4096: bad checksum ab"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	withCause := &CorruptionError{Offset: -1, Reason: "decompress", Err: io.ErrUnexpectedEOF}
	if !errors.Is(withCause, io.ErrUnexpectedEOF) || !errors.Is(withCause, ErrCorruption) {
		t.Error("cause or sentinel lost")
	}
	if s := withCause.Error(); !strings.Contains(s, "<unnamed>") || strings.Contains(s, "offset") {
		t.Errorf("Error() = %q", s)
	}
	if IsCorruption(io.EOF) {
		t.Error("io.EOF is not corruption")
	}
}
