package isledb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

// TestWriterWALRecordGolden pins the bytes of a writer WAL record (version 2), a version 1
// record (still read) and the published marker: a change here is a format change.
func TestWriterWALRecordGolden(t *testing.T) {
	r := walRecord{seq: 0x0102, kind: base.KindValue, expiry: 7, epoch: 300, key: []byte("key"), value: []byte("value")}
	const want = "020102010000000000000700000000000000ac02036b657976616c7565"
	got := r.appendTo(nil)
	if hex.EncodeToString(got) != want {
		t.Errorf("record encodes to %x, want %s", got, want)
	}
	back, err := decodeWALRecord(got)
	if err != nil || back.seq != r.seq || back.kind != r.kind || back.expiry != r.expiry || back.epoch != r.epoch ||
		!bytes.Equal(back.key, r.key) || !bytes.Equal(back.value, r.value) {
		t.Errorf("decode = %+v, %v", back, err)
	}
	// Version 1: no epoch.
	v1, _ := hex.DecodeString("010002010000000000000000000000000000016b76")
	old, err := decodeWALRecord(v1)
	if err != nil || old.epoch != 0 || old.kind != base.KindDelete || old.seq != 0x102 || string(old.key) != "k" || string(old.value) != "v" {
		t.Errorf("version 1 record = %+v, %v", old, err)
	}
	// The published marker.
	var m [1 + binary.MaxVarintLen64]byte
	m[0] = walMarkerPublished
	n := binary.PutUvarint(m[1:], 300)
	if got := hex.EncodeToString(m[:1+n]); got != "80ac02" {
		t.Errorf("marker = %s", got)
	}
}

func FuzzDecodeWALRecord(f *testing.F) {
	f.Add(walRecord{seq: 5, kind: base.KindValue, epoch: 2, key: []byte("k"), value: []byte("v")}.appendTo(nil))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeWALRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("error %v is not corruption", err)
			}
			return
		}
		if r.epoch == 0 && b[0] == walRecordVersion {
			t.Fatal("a version 2 record decoded without an epoch")
		}
	})
}
