package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func openSharded(t testing.TB, o Options, n uint16) *Sharded {
	t.Helper()
	s, err := NewSharded(o, n)
	if err != nil {
		t.Fatalf("NewSharded: %v", err)
	}
	return s
}

// TestShardedSeedExample follows the usage example of the API this package implements:
// write, checkpoint, restore from the latest checkpoint, prune, compact.
func TestShardedSeedExample(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 16
	wal := openSharded(t, o, 16)
	defer wal.Close()

	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("user_%d", i)
		if _, _, err := wal.Append([]byte(key), []byte("data")); err != nil {
			t.Fatal(err)
		}
	}
	if err := wal.CreateCheckpoint([]byte("snapshot_1")); err != nil {
		t.Fatal(err)
	}

	id, checkpoint, err := wal.LoadLatestCheckpoint()
	if err != nil || string(id) != "snapshot_1" {
		t.Fatalf("LoadLatestCheckpoint = %q, %v", id, err)
	}
	total := SeqNum(0)
	for shard := ShardID(0); shard < 16; shard++ {
		offset := checkpoint.Offsets[shard]
		total += offset
		it, err := wal.IterShard(shard, offset)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			t.Fatalf("shard %d: entry %d after the checkpoint", shard, it.ID())
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		it.Close()
	}
	if total != 1000 {
		t.Fatalf("checkpoint covers %d entries, want 1000", total)
	}

	stats, err := wal.PruneBeforeCheckpoint([]byte("snapshot_1"))
	if err != nil || stats.SegmentsDeleted == 0 || stats.ShardsPruned == 0 {
		t.Fatalf("PruneBeforeCheckpoint = %+v, %v", stats, err)
	}
	cs, err := wal.CompactCheckpoints(5)
	if err != nil || cs.CheckpointsBefore != 1 || cs.CheckpointsAfter != 1 || cs.BytesReclaimed != 0 {
		t.Fatalf("CompactCheckpoints = %+v, %v", cs, err)
	}
	if wal.ShardCount() != 16 || wal.CheckpointCount() != 1 || wal.Inner() == nil {
		t.Fatal("accessors")
	}
}

func TestShardedRouting(t *testing.T) {
	s := openSharded(t, testOptions(t), 8)
	defer s.Close()
	sh1, seq1, err := s.Append([]byte("k"), []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	sh2, seq2, _ := s.Append([]byte("k"), []byte("v2"))
	if sh1 != sh2 || seq2 != seq1+1 || sh1 != s.ShardFor([]byte("k")) {
		t.Fatalf("same key went to %d/%d, %d/%d", sh1, seq1, sh2, seq2)
	}
	// The key-to-shard mapping is frozen.
	if got := fnv1a64([]byte("user_1")); got != 0xf7a196aa74b9b772 || fnv1a64(nil) != 14695981039346656037 {
		t.Fatalf("fnv1a64 changed: %#x", got)
	}
	pos, err := s.AppendBatchForKey([]byte("k"), [][]byte{[]byte("v3"), []byte("v4")})
	if err != nil || len(pos) != 2 || pos[0] != (Position{sh1, seq1 + 2}) || pos[1] != (Position{sh1, seq1 + 3}) {
		t.Fatalf("AppendBatchForKey = %v, %v", pos, err)
	}
	var kvs []KeyValue
	for i := 0; i < 50; i++ {
		kvs = append(kvs, KeyValue{Key: []byte(fmt.Sprintf("key-%d", i%7)), Value: []byte(fmt.Sprintf("val-%d", i))})
	}
	pos, err = s.AppendBatch(kvs)
	if err != nil || len(pos) != len(kvs) {
		t.Fatalf("AppendBatch = %d positions, %v", len(pos), err)
	}
	for i, p := range pos {
		if p.Shard != s.ShardFor(kvs[i].Key) {
			t.Fatalf("entry %d in shard %d, key hashes to %d", i, p.Shard, s.ShardFor(kvs[i].Key))
		}
		got, err := s.Inner().Get(ShardStreamName(p.Shard), p.Seq)
		if err != nil || !bytes.Equal(got, kvs[i].Value) {
			t.Fatalf("entry %d at %v = %q, %v", i, p, got, err)
		}
		if i > 0 && pos[i-1].Shard == p.Shard && pos[i-1].Seq >= p.Seq {
			t.Fatalf("input order not kept within shard %d", p.Shard)
		}
	}
	if _, err := s.IterShard(8, 0); !errors.Is(err, ErrInvalidShard) {
		t.Fatalf("IterShard(8) = %v", err)
	}
	if p, err := s.AppendBatch(nil); err != nil || p != nil {
		t.Fatalf("empty AppendBatch = %v, %v", p, err)
	}
}

func TestShardedCheckpointsSurviveReopen(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 8
	s := openSharded(t, o, 4)
	write := func(from, n int) {
		for i := from; i < from+n; i++ {
			if _, _, err := s.Append([]byte(fmt.Sprint(i)), entryFor(SeqNum(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(0, 100)
	if err := s.CreateCheckpoint([]byte("c1")); err != nil {
		t.Fatal(err)
	}
	write(100, 100)
	if err := s.CreateCheckpoint([]byte("c2")); err != nil {
		t.Fatal(err)
	}
	write(200, 10)
	c1, _ := s.LoadCheckpoint([]byte("c1"))
	c2, _ := s.LoadCheckpoint([]byte("c2"))
	s.Close()

	s = openSharded(t, o, 4)
	defer s.Close()
	if s.CheckpointCount() != 2 {
		t.Fatalf("CheckpointCount = %d", s.CheckpointCount())
	}
	r1, err := s.LoadCheckpoint([]byte("c1"))
	if err != nil || fmt.Sprint(r1.Offsets) != fmt.Sprint(c1.Offsets) || !r1.Timestamp.Equal(c1.Timestamp) {
		t.Fatalf("c1 after reopen = %+v, %v; want %+v", r1, err, c1)
	}
	id, r2, err := s.LoadLatestCheckpoint()
	if err != nil || string(id) != "c2" || fmt.Sprint(r2.Offsets) != fmt.Sprint(c2.Offsets) {
		t.Fatalf("latest after reopen = %q %+v, %v", id, r2, err)
	}
	// Replaying every shard from c1 gives exactly the entries written after it.
	replayed := 0
	for sh := ShardID(0); sh < 4; sh++ {
		it, err := s.IterShard(sh, r1.Offsets[sh])
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			replayed++
		}
		it.Close()
	}
	if replayed != 110 {
		t.Fatalf("replayed %d entries after c1, want 110", replayed)
	}

	// Pruning never removes an entry at or after the checkpoint's offsets.
	if _, err := s.PruneBeforeCheckpoint([]byte("c2")); err != nil {
		t.Fatal(err)
	}
	for sh := ShardID(0); sh < 4; sh++ {
		name := ShardStreamName(sh)
		for id := r2.Offsets[sh]; id < s.Inner().NextSeq(name); id++ {
			if _, err := s.Inner().Get(name, id); err != nil {
				t.Fatalf("shard %d entry %d lost by pruning: %v", sh, id, err)
			}
		}
		it, _ := s.IterShard(sh, 0)
		if it.Next() && it.ID() > r2.Offsets[sh] {
			t.Fatalf("shard %d: pruned past the checkpoint: first entry %d > %d", sh, it.ID(), r2.Offsets[sh])
		}
		it.Close()
	}

	cs, err := s.CompactCheckpoints(1)
	if err != nil || cs.CheckpointsBefore != 2 || cs.CheckpointsAfter != 1 || cs.BytesReclaimed == 0 {
		t.Fatalf("CompactCheckpoints = %+v, %v", cs, err)
	}
	if _, err := s.LoadCheckpoint([]byte("c1")); !errors.Is(err, ErrCheckpointNotFound) {
		t.Fatalf("compacted checkpoint still loads: %v", err)
	}
	if cs, err := s.CompactCheckpoints(0); err != nil || cs.CheckpointsAfter != 0 {
		t.Fatalf("CompactCheckpoints(0) = %+v, %v", cs, err)
	}
	if _, _, err := s.LoadLatestCheckpoint(); !errors.Is(err, ErrNoCheckpoints) {
		t.Fatalf("LoadLatestCheckpoint with none = %v", err)
	}
}

func TestShardedErrors(t *testing.T) {
	o := testOptions(t)
	if _, err := NewSharded(o, 0); !errors.Is(err, ErrInvalidShard) {
		t.Fatalf("NewSharded(0) = %v", err)
	}
	s := openSharded(t, o, 4)
	if _, _, err := s.LoadLatestCheckpoint(); !errors.Is(err, ErrNoCheckpoints) {
		t.Fatalf("LoadLatestCheckpoint = %v", err)
	}
	for _, id := range [][]byte{nil, {}, make([]byte, MaxCheckpointIDLen+1)} {
		if err := s.CreateCheckpoint(id); !errors.Is(err, ErrInvalidCheckpointID) {
			t.Fatalf("CreateCheckpoint(len %d) = %v", len(id), err)
		}
	}
	if err := s.CreateCheckpoint(make([]byte, MaxCheckpointIDLen)); err != nil {
		t.Fatalf("CreateCheckpoint(max len) = %v", err)
	}
	if _, err := s.LoadCheckpoint([]byte("missing")); !errors.Is(err, ErrCheckpointNotFound) {
		t.Fatalf("LoadCheckpoint(missing) = %v", err)
	}
	if _, err := s.CompactCheckpoints(-1); !errors.Is(err, ErrConfig) {
		t.Fatalf("CompactCheckpoints(-1) = %v", err)
	}
	if err := s.CreateCheckpoint([]byte("good")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening with another shard count fails.
	var mm *ShardCountMismatchError
	if _, err := NewSharded(o, 8); !errors.As(err, &mm) || mm.Expected != 8 || mm.Found != 4 {
		t.Fatalf("NewSharded with another count = %v", err)
	}

	// A corrupted checkpoint file is reported, with its offset.
	files, _ := filepath.Glob(filepath.Join(o.RootPath, checkpointsDirName, "*"+checkpointSuffix))
	last := files[len(files)-1]
	b, _ := os.ReadFile(last)
	b[20] ^= 0xff
	os.WriteFile(last, b, 0o644)
	s = openSharded(t, o, 4)
	defer s.Close()
	var cc *CheckpointCorruptedError
	if _, _, err := s.LoadLatestCheckpoint(); !errors.As(err, &cc) || !errors.Is(err, ErrCheckpointCorrupted) {
		t.Fatalf("LoadLatestCheckpoint of a corrupt file = %v", err)
	}
	if s.CheckpointCount() != 2 {
		t.Fatalf("CheckpointCount = %d", s.CheckpointCount())
	}
	if _, err := s.CompactCheckpoints(0); err != nil {
		t.Fatal(err)
	}
}

func TestShardedCheckpointCountMismatch(t *testing.T) {
	o := testOptions(t)
	s := openSharded(t, o, 2)
	defer s.Close()
	id, d := []byte("foreign"), &CheckpointData{Offsets: []SeqNum{1, 2, 3}, ShardCount: 3}
	if err := s.ckpt.add(id, d); err != nil {
		t.Fatal(err)
	}
	var mm *ShardCountMismatchError
	if _, err := s.LoadCheckpoint(id); !errors.As(err, &mm) || mm.Expected != 2 || mm.Found != 3 {
		t.Fatalf("LoadCheckpoint = %v", err)
	}
}

func TestShardedStrictConcurrent(t *testing.T) {
	o := testOptions(t)
	o.SyncMode = SyncStrict
	s := openSharded(t, o, 4)
	defer s.Close()
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				if _, _, err := s.Append([]byte{byte(g), byte(i)}, []byte("v")); err != nil {
					done <- err
					return
				}
				if i%5 == 0 {
					if err := s.CreateCheckpoint([]byte{byte(g)}); err != nil {
						done <- err
						return
					}
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateCheckpoint([]byte("final")); err != nil {
		t.Fatal(err)
	}
	d, _ := s.LoadCheckpoint([]byte("final"))
	sum := SeqNum(0)
	for _, o := range d.Offsets {
		sum += o
	}
	if sum != 160 {
		t.Fatalf("final checkpoint covers %d entries, want 160", sum)
	}
}
