package base

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// The bucket's object names, in one place: how SST ids are made and parsed, and the keys of
// SSTs, blobs and bucket WAL objects (docs/format.md, "Bucket layout"). blobstore's SSTPath, BlobPath,
// ListSSTFiles and ListBlobFiles delegate here.
const (
	// SSTDir is the prefix of every SST object: "sst/<id>.sst".
	SSTDir = "sst/"
	// SSTSuffix ends every SST object's key.
	SSTSuffix = ".sst"
	// BlobDir is the prefix of every blob object: "blob/<64 hex digits of its SHA-256>".
	BlobDir = "blob/"
	// WALObjectDir is the prefix of every bucket WAL object: "wal/<position, 20 digits>.wal".
	WALObjectDir = "wal/"
	// WALObjectSuffix ends every bucket WAL object's key.
	WALObjectSuffix = ".wal"
)

// NewSSTID returns a new SST id that sorts by creation: the writer or compactor epoch, then
// the highest sequence number it holds, then 32 random bits so two attempts never collide:
// "<epoch, 20 digits>-<seqHi, 20 digits>-<8 hex digits>".
func NewSSTID(epoch, seqHi uint64) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%020d-%020d-%08x", epoch, seqHi, binary.BigEndian.Uint32(r[:]))
}

// ParseSSTID splits an id made by NewSSTID into its epoch and highest sequence number; ok
// is false for any other string.
func ParseSSTID(id string) (epoch, seqHi uint64, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return 0, 0, false
	}
	e, err1 := strconv.ParseUint(parts[0], 10, 64)
	s, err2 := strconv.ParseUint(parts[1], 10, 64)
	return e, s, err1 == nil && err2 == nil
}

// SSTKey returns the object key of the SST with the given id: "sst/<id>.sst".
func SSTKey(id string) string { return SSTDir + id + SSTSuffix }

// SSTIDOfKey returns the id of the SST whose object key is key; ok is false for a key that
// is not "sst/<id>.sst" with a non-empty id free of slashes.
func SSTIDOfKey(key string) (id string, ok bool) {
	return idOfKey(key, SSTDir, SSTSuffix)
}

// BlobKey returns the object key of the blob with the given id (its SHA-256 in hex).
func BlobKey(id string) string { return BlobDir + id }

// BlobIDOfKey returns the id of the blob whose object key is key; ok is false for a key that
// is not "blob/<id>" with a non-empty id free of slashes. The id is not checked to be hex.
func BlobIDOfKey(key string) (id string, ok bool) {
	return idOfKey(key, BlobDir, "")
}

// idOfKey cuts dir and suffix off key; the rest must be non-empty and free of slashes.
func idOfKey(key, dir, suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(key, dir)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, suffix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// WALObjectKey returns the key of the bucket WAL object at position pos (from 1).
func WALObjectKey(pos uint64) string {
	return fmt.Sprintf("%s%020d%s", WALObjectDir, pos, WALObjectSuffix)
}

// WALObjectPosOfKey returns the position a bucket WAL object key names; ok is false for any
// other key (position 0 included).
func WALObjectPosOfKey(key string) (pos uint64, ok bool) {
	s, ok := idOfKey(key, WALObjectDir, WALObjectSuffix)
	if !ok || len(s) != 20 {
		return 0, false
	}
	pos, err := strconv.ParseUint(s, 10, 64)
	if err != nil || pos == 0 {
		return 0, false
	}
	return pos, true
}
