package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Checkpoint file, version 1 (frozen). One file per checkpoint in RootPath/.checkpoints,
// named by a checkpoint sequence number as 20 decimal digits plus ".ckpt"; a higher number is
// a later checkpoint. Each file is written to "<name>.tmp", fsynced, renamed, and the
// directory fsynced, so a visible checkpoint is always complete. Integers little-endian:
//
//	 0            8        10       12       14        16          24         24+L       24+L+8S
//	+------------+--------+--------+--------+---------+-----------+----------+----------+---------+
//	| magic      | version| shards | id len | flags   | timestamp | user id  | offsets  | CRC-32C |
//	| "ISLECKPT" | u16 = 1| u16 = S| u16 = L| u16 = 0 | i64 ns    | L bytes  | S × u64  | u32     |
//	+------------+--------+--------+--------+---------+-----------+----------+----------+---------+
//
// The CRC-32C (Castagnoli) covers every byte before it. Offsets[i] is the sequence number of
// the first entry of shard i that the checkpoint does not cover.
const (
	checkpointMagic    = "ISLECKPT"
	checkpointVersion  = uint16(1)
	checkpointFixedLen = 24
	checkpointSuffix   = ".ckpt"

	// MaxCheckpointIDLen is the longest checkpoint user ID, in bytes.
	MaxCheckpointIDLen = 65535
)

// CheckpointData is the content of a checkpoint: where each shard stood when it was taken.
type CheckpointData struct {
	// Offsets[i] is the sequence number of the first entry of shard i not covered by the
	// checkpoint: replay shard i from Offsets[i] to restore the state after it.
	Offsets []SeqNum
	// Timestamp is when the checkpoint was created (nanosecond precision).
	Timestamp time.Time
	// ShardCount is the number of shards, len(Offsets).
	ShardCount uint16
}

// appendCheckpoint appends the encoding of a checkpoint to dst.
func appendCheckpoint(dst []byte, userID []byte, d *CheckpointData) []byte {
	start := len(dst)
	dst = append(dst, checkpointMagic...)
	dst = binary.LittleEndian.AppendUint16(dst, checkpointVersion)
	dst = binary.LittleEndian.AppendUint16(dst, d.ShardCount)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(userID)))
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(d.Timestamp.UnixNano()))
	dst = append(dst, userID...)
	for _, o := range d.Offsets {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(o))
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeCheckpoint decodes a checkpoint file's content. Bad bytes give a
// *CheckpointCorruptedError.
func decodeCheckpoint(b []byte, path string) ([]byte, *CheckpointData, error) {
	bad := func(off int, reason string) ([]byte, *CheckpointData, error) {
		return nil, nil, &CheckpointCorruptedError{Path: path, Offset: int64(off), Reason: reason}
	}
	if len(b) < checkpointFixedLen+4 {
		return bad(0, "file too short")
	}
	if string(b[:8]) != checkpointMagic {
		return bad(0, "bad magic")
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != checkpointVersion {
		return bad(8, fmt.Sprintf("unsupported version %d", v))
	}
	shards := int(binary.LittleEndian.Uint16(b[10:]))
	idLen := int(binary.LittleEndian.Uint16(b[12:]))
	if f := binary.LittleEndian.Uint16(b[14:]); f != 0 {
		return bad(14, fmt.Sprintf("unknown flags %#x", f))
	}
	want := checkpointFixedLen + idLen + 8*shards + 4
	if len(b) != want {
		return bad(0, fmt.Sprintf("length %d, want %d", len(b), want))
	}
	body := b[:len(b)-4]
	if got, stored := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(b)-4:]); got != stored {
		return bad(len(body), fmt.Sprintf("CRC mismatch: stored %#08x, computed %#08x", stored, got))
	}
	if idLen == 0 {
		return bad(12, "empty user id")
	}
	if shards == 0 {
		return bad(10, "zero shards")
	}
	d := &CheckpointData{
		Timestamp:  time.Unix(0, int64(binary.LittleEndian.Uint64(b[16:]))),
		ShardCount: uint16(shards),
		Offsets:    make([]SeqNum, shards),
	}
	userID := bytes.Clone(b[checkpointFixedLen : checkpointFixedLen+idLen])
	off := checkpointFixedLen + idLen
	for i := range d.Offsets {
		d.Offsets[i] = SeqNum(binary.LittleEndian.Uint64(b[off+8*i:]))
	}
	return userID, d, nil
}

// checkpointFile is one checkpoint on disk, decoded when the store opened or when written.
type checkpointFile struct {
	seq    uint64
	path   string
	size   int64
	userID []byte
	data   *CheckpointData
	err    error // set if the file did not decode
}

// checkpointStore is the directory of checkpoint files.
type checkpointStore struct {
	dir string

	mu struct {
		sync.Mutex
		files   []*checkpointFile // by seq, oldest first
		nextSeq uint64
	}
}

// openCheckpointStore reads every checkpoint in dir, creating dir if needed. Files that do
// not decode are kept, and reported when loaded.
func openCheckpointStore(dir string) (*checkpointStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, ioErr("create checkpoint directory", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, ioErr("read checkpoint directory", dir, err)
	}
	c := &checkpointStore{dir: dir}
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, tempSuffix) {
			if err := os.Remove(path); err != nil {
				return nil, ioErr("remove temporary file", path, err)
			}
			continue
		}
		digits, ok := strings.CutSuffix(name, checkpointSuffix)
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || len(digits) != seqDigits {
			return nil, fmt.Errorf("%w: %s", ErrInvalidFilename, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, ioErr("read checkpoint", path, err)
		}
		f := &checkpointFile{seq: seq, path: path, size: int64(len(b))}
		f.userID, f.data, f.err = decodeCheckpoint(b, path)
		c.mu.files = append(c.mu.files, f) // ReadDir sorts by name: by seq
		c.mu.nextSeq = seq + 1
	}
	return c, nil
}

// add writes a new checkpoint atomically and durably.
func (c *checkpointStore) add(userID []byte, d *CheckpointData) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq := c.mu.nextSeq
	path := filepath.Join(c.dir, fmt.Sprintf("%020d%s", seq, checkpointSuffix))
	b := appendCheckpoint(nil, userID, d)
	if err := writeFileAtomic(path, b); err != nil {
		return err
	}
	c.mu.nextSeq++
	c.mu.files = append(c.mu.files, &checkpointFile{seq: seq, path: path, size: int64(len(b)),
		userID: bytes.Clone(userID), data: d})
	return nil
}

// find returns the latest checkpoint whose user ID is userID.
func (c *checkpointStore) find(userID []byte) (*checkpointFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.mu.files) - 1; i >= 0; i-- {
		if f := c.mu.files[i]; f.err == nil && bytes.Equal(f.userID, userID) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrCheckpointNotFound, userID)
}

// latest returns the newest checkpoint, or its decoding error.
func (c *checkpointStore) latest() (*checkpointFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.mu.files) == 0 {
		return nil, ErrNoCheckpoints
	}
	f := c.mu.files[len(c.mu.files)-1]
	return f, f.err
}

func (c *checkpointStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mu.files)
}

// compact deletes all but the keep newest checkpoints.
func (c *checkpointStore) compact(keep int) (CompactionStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := CompactionStats{CheckpointsBefore: len(c.mu.files), CheckpointsAfter: len(c.mu.files)}
	n := len(c.mu.files) - keep
	if n <= 0 {
		return st, nil
	}
	for i, f := range c.mu.files[:n] {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.mu.files = c.mu.files[i:]
			st.CheckpointsAfter = len(c.mu.files)
			return st, ioErr("remove checkpoint", f.path, err)
		}
		st.BytesReclaimed += uint64(f.size)
	}
	c.mu.files = append([]*checkpointFile(nil), c.mu.files[n:]...)
	st.CheckpointsAfter = len(c.mu.files)
	return st, syncDir(c.dir)
}

// writeFileAtomic writes b to path through a temporary file: write, fsync, rename, fsync the
// directory. A crash leaves either no file or the whole file.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + tempSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return ioErr("create", tmp, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return ioErr("write", path, err)
	}
	return syncDir(filepath.Dir(path))
}
