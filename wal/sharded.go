package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Sharded WAL layout (frozen). The shards are streams of an ordinary WAL in RootPath, named
// by ShardStreamName ("shard-00000", "shard-00001", ...). RootPath/.shards records the shard
// count so that a reopen with another count fails:
//
//	 0            8        10       12
//	+------------+--------+--------+---------+
//	| "ISLESHRD" | u16 = 1| count  | CRC-32C |
//	|            | version| u16    | u32     |
//	+------------+--------+--------+---------+
//
// Checkpoints live in RootPath/.checkpoints (see checkpoint.go). A key goes to shard
// FNV-1a-64(key) mod count; the hash is part of the format, since it decides which shard, and
// so which order, a key's entries land in.
const (
	shardsFileName     = ".shards"
	shardsMagic        = "ISLESHRD"
	shardsFileLen      = 16
	checkpointsDirName = ".checkpoints"
)

// ShardID identifies a shard of a Sharded WAL, from 0 to ShardCount-1.
type ShardID uint16

// Position is where an entry landed in a Sharded WAL.
type Position struct {
	Shard ShardID
	Seq   SeqNum
}

// KeyValue is one entry for Sharded.AppendBatch: Value is appended to Key's shard.
type KeyValue struct {
	Key   []byte
	Value []byte
}

// PruneStats reports what PruneBeforeCheckpoint deleted.
type PruneStats struct {
	ShardsPruned    uint16 // shards that lost at least one segment
	SegmentsDeleted int    // segments deleted across all shards
}

// CompactionStats reports what CompactCheckpoints deleted.
type CompactionStats struct {
	CheckpointsBefore int    // checkpoints before compaction
	CheckpointsAfter  int    // checkpoints kept
	BytesReclaimed    uint64 // bytes of checkpoint files deleted
}

// ShardStreamName returns the name of the stream that holds shard id.
func ShardStreamName(id ShardID) string { return fmt.Sprintf("shard-%05d", id) }

// Sharded spreads entries over a fixed number of streams (shards) by key, and takes
// consistent checkpoints of where every shard stands. Entries with the same key always go to
// the same shard, so they keep their order; entries of different shards are independent.
// All methods are safe for concurrent use.
type Sharded struct {
	inner  *WAL
	shards []*stream
	ckpt   *checkpointStore

	// cut is held shared while appends assign sequence numbers and exclusively while a
	// checkpoint reads them, so a checkpoint never splits a multi-shard AppendBatch.
	cut sync.RWMutex
}

// NewSharded opens (creating if needed) a sharded WAL with shardCount shards in
// opts.RootPath. The shard count is fixed when the WAL is first created; opening it with
// another count fails with a *ShardCountMismatchError. All shard streams are created up
// front.
func NewSharded(opts Options, shardCount uint16) (*Sharded, error) {
	if shardCount == 0 {
		return nil, fmt.Errorf("%w: shard count must be positive", ErrInvalidShard)
	}
	inner, err := Open(opts)
	if err != nil {
		return nil, err
	}
	s, err := newSharded(inner, shardCount)
	if err != nil {
		inner.Close()
		return nil, err
	}
	return s, nil
}

func newSharded(inner *WAL, n uint16) (*Sharded, error) {
	root := inner.opts.RootPath
	if err := checkShardsFile(filepath.Join(root, shardsFileName), n); err != nil {
		return nil, err
	}
	s := &Sharded{inner: inner, shards: make([]*stream, n)}
	for i := range s.shards {
		st, err := inner.streamForWrite(ShardStreamName(ShardID(i)))
		if err != nil {
			return nil, err
		}
		s.shards[i] = st
	}
	ckpt, err := openCheckpointStore(filepath.Join(root, checkpointsDirName))
	if err != nil {
		return nil, err
	}
	s.ckpt = ckpt
	return s, nil
}

// checkShardsFile creates the shard-count file, or checks that it records n.
func checkShardsFile(path string, n uint16) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b = append([]byte(nil), shardsMagic...)
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint16(b, n)
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
		return writeFileAtomic(path, b)
	}
	if err != nil {
		return ioErr("read", path, err)
	}
	if len(b) != shardsFileLen || string(b[:8]) != shardsMagic || binary.LittleEndian.Uint16(b[8:]) != 1 ||
		crc32.Checksum(b[:12], castagnoli) != binary.LittleEndian.Uint32(b[12:]) {
		return &CorruptionError{Path: path, Reason: "bad shard count file"}
	}
	if found := binary.LittleEndian.Uint16(b[10:]); found != n {
		return &ShardCountMismatchError{Expected: n, Found: found}
	}
	return nil
}

// ShardFor returns the shard that key's entries go to.
func (s *Sharded) ShardFor(key []byte) ShardID {
	return ShardID(fnv1a64(key) % uint64(len(s.shards)))
}

// fnv1a64 is the 64-bit FNV-1a hash (frozen: it decides a key's shard).
func fnv1a64(b []byte) uint64 {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= prime64
	}
	return h
}

// Append appends value to the shard of key and returns where it landed. Durability follows
// SyncMode as for WAL.Append.
func (s *Sharded) Append(key, value []byte) (ShardID, SeqNum, error) {
	sh := s.ShardFor(key)
	st := s.shards[sh]
	one := [1][]byte{value}
	s.cut.RLock()
	strict := s.inner.opts.SyncMode == SyncStrict
	r, err := st.write(one[:], strict)
	s.cut.RUnlock()
	if err != nil {
		return 0, 0, err
	}
	if strict {
		if err := st.waitDurable(r.End); err != nil {
			return 0, 0, err
		}
	}
	return sh, r.Start, nil
}

// AppendBatch appends each entry's value to its key's shard and returns the positions in the
// order of entries. The entries of one shard are written as one atomic batch, in input order;
// the batch is NOT atomic across shards: after a crash, some shards may hold their part and
// others not. A checkpoint, though, never sees part of it. In SyncStrict and SyncBatchOnly
// modes it returns once every part is durable. If a shard's write fails, earlier shards' parts
// may have been written.
func (s *Sharded) AppendBatch(entries []KeyValue) ([]Position, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	groups := make([][]int, len(s.shards)) // input indexes per shard
	for i, kv := range entries {
		sh := s.ShardFor(kv.Key)
		groups[sh] = append(groups[sh], i)
	}
	out := make([]Position, len(entries))
	ends := make([]SeqNum, len(s.shards))
	var vals [][]byte
	s.cut.RLock()
	for sh, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		vals = vals[:0]
		for _, i := range idx {
			vals = append(vals, entries[i].Value)
		}
		r, err := s.shards[sh].write(vals, s.inner.opts.SyncMode != SyncAsync)
		if err != nil {
			s.cut.RUnlock()
			return nil, err
		}
		for j, i := range idx {
			out[i] = Position{Shard: ShardID(sh), Seq: r.Start + SeqNum(j)}
		}
		ends[sh] = r.End
	}
	s.cut.RUnlock()
	if err := s.waitBatch(ends); err != nil {
		return nil, err
	}
	return out, nil
}

// AppendBatchForKey appends values, in order, as one atomic batch to key's shard, hashing the
// key once. It returns one position per value.
func (s *Sharded) AppendBatchForKey(key []byte, values [][]byte) ([]Position, error) {
	if len(values) == 0 {
		return nil, nil
	}
	sh := s.ShardFor(key)
	st := s.shards[sh]
	s.cut.RLock()
	durable := s.inner.opts.SyncMode != SyncAsync
	r, err := st.write(values, durable)
	s.cut.RUnlock()
	if err != nil {
		return nil, err
	}
	if durable {
		if err := st.waitDurable(r.End); err != nil {
			return nil, err
		}
	}
	out := make([]Position, len(values))
	for i := range out {
		out[i] = Position{Shard: sh, Seq: r.Start + SeqNum(i)}
	}
	return out, nil
}

// waitBatch waits for each shard's part of a batch to be durable, as the SyncMode requires.
func (s *Sharded) waitBatch(ends []SeqNum) error {
	if s.inner.opts.SyncMode == SyncAsync {
		return nil
	}
	for sh, end := range ends {
		if end > 0 {
			if err := s.shards[sh].waitDurable(end); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateCheckpoint records, under userID, the current end of every shard, after making every
// entry before it durable. The checkpoint is consistent: no AppendBatch is split by it, and
// every entry appended through this Sharded before the call is covered. (Entries written to
// shard streams directly through Inner are not coordinated.) userID is the caller's name for
// the checkpoint, such as a Raft index; it must be 1 to MaxCheckpointIDLen bytes. Creating a
// checkpoint with an ID already used adds a newer one; loads by ID return the newest.
func (s *Sharded) CreateCheckpoint(userID []byte) error {
	if err := checkCheckpointID(userID); err != nil {
		return err
	}
	if s.inner.closed.Load() {
		return ErrClosed
	}
	d := &CheckpointData{Offsets: make([]SeqNum, len(s.shards)), ShardCount: uint16(len(s.shards))}
	s.cut.Lock()
	for i, st := range s.shards {
		d.Offsets[i] = SeqNum(st.nextSeq.Load())
	}
	s.cut.Unlock()
	for i, st := range s.shards {
		if err := st.waitDurable(d.Offsets[i]); err != nil {
			return err
		}
	}
	d.Timestamp = time.Unix(0, time.Now().UnixNano()) // as a reload will see it
	return s.ckpt.add(userID, d)
}

// LoadCheckpoint returns the newest checkpoint created with userID, or an error matching
// ErrCheckpointNotFound.
func (s *Sharded) LoadCheckpoint(userID []byte) (*CheckpointData, error) {
	if err := checkCheckpointID(userID); err != nil {
		return nil, err
	}
	f, err := s.ckpt.find(userID)
	if err != nil {
		return nil, err
	}
	return s.checked(f.data)
}

// LoadLatestCheckpoint returns the user ID and content of the newest checkpoint, ErrNoCheckpoints
// if there is none, or a *CheckpointCorruptedError if the newest does not decode.
func (s *Sharded) LoadLatestCheckpoint() ([]byte, *CheckpointData, error) {
	f, err := s.ckpt.latest()
	if err != nil {
		return nil, nil, err
	}
	d, err := s.checked(f.data)
	if err != nil {
		return nil, nil, err
	}
	return append([]byte(nil), f.userID...), d, nil
}

// checked returns a copy of d after checking its shard count.
func (s *Sharded) checked(d *CheckpointData) (*CheckpointData, error) {
	if int(d.ShardCount) != len(s.shards) {
		return nil, &ShardCountMismatchError{Expected: uint16(len(s.shards)), Found: d.ShardCount}
	}
	c := *d
	c.Offsets = append([]SeqNum(nil), d.Offsets...)
	return &c, nil
}

// IterShard returns an iterator over shard from sequence number start (see WAL.Iter).
func (s *Sharded) IterShard(shard ShardID, start SeqNum) (*Iterator, error) {
	if int(shard) >= len(s.shards) {
		return nil, fmt.Errorf("%w: %d of %d", ErrInvalidShard, shard, len(s.shards))
	}
	return s.inner.Iter(ShardStreamName(shard), start)
}

// PruneBeforeCheckpoint deletes, in every shard, the segments whose entries all precede the
// checkpoint's offset for that shard (see WAL.Truncate). Entries at or after the offsets are
// never deleted.
func (s *Sharded) PruneBeforeCheckpoint(userID []byte) (PruneStats, error) {
	d, err := s.LoadCheckpoint(userID)
	if err != nil {
		return PruneStats{}, err
	}
	var st PruneStats
	for i, off := range d.Offsets {
		n, err := s.inner.Truncate(ShardStreamName(ShardID(i)), off)
		st.SegmentsDeleted += n
		if n > 0 {
			st.ShardsPruned++
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// CompactCheckpoints deletes all checkpoints but the keepLatest newest.
func (s *Sharded) CompactCheckpoints(keepLatest int) (CompactionStats, error) {
	if keepLatest < 0 {
		return CompactionStats{}, fmt.Errorf("%w: keepLatest %d is negative", ErrConfig, keepLatest)
	}
	return s.ckpt.compact(keepLatest)
}

// ShardCount returns the number of shards.
func (s *Sharded) ShardCount() uint16 { return uint16(len(s.shards)) }

// CheckpointCount returns the number of checkpoints stored.
func (s *Sharded) CheckpointCount() int { return s.ckpt.count() }

// Inner returns the underlying WAL, whose streams ShardStreamName(0), ShardStreamName(1), ...
// are the shards. Other streams may be used freely; writing to a shard stream directly
// bypasses the checkpoint coordination.
func (s *Sharded) Inner() *WAL { return s.inner }

// Close closes the underlying WAL.
func (s *Sharded) Close() error { return s.inner.Close() }

func checkCheckpointID(id []byte) error {
	if len(id) == 0 || len(id) > MaxCheckpointIDLen {
		return fmt.Errorf("%w: length %d (must be 1 to %d bytes)", ErrInvalidCheckpointID, len(id), MaxCheckpointIDLen)
	}
	return nil
}
