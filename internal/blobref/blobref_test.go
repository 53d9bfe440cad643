package blobref

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestRoundTripAndGolden(t *testing.T) {
	r := Of([]byte("hello"))
	enc := r.Append(nil)
	// Frozen encoding: sha256("hello") then 5 as 8 little-endian bytes.
	want := "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" + "0500000000000000"
	if hex.EncodeToString(enc) != want {
		t.Fatalf("encoding = %x, want %s", enc, want)
	}
	got, err := Decode(enc)
	if err != nil || got != r {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	if r.Verify([]byte("hello")) != nil || !errors.Is(r.Verify([]byte("hellO")), ErrCorrupt) {
		t.Fatal("Verify wrong")
	}
	if _, err := Decode(enc[:39]); !errors.Is(err, ErrCorrupt) {
		t.Fatal("short reference accepted")
	}
	if _, err := Decode(append(bytes.Repeat([]byte{0}, 32), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); !errors.Is(err, ErrCorrupt) {
		t.Fatal("absurd length accepted")
	}
}
