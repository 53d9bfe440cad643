package wal_test

import (
	"fmt"
	"log"
	"os"

	"github.com/isledb/isledb/wal"
)

func Example() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)

	w, err := wal.Open(wal.DefaultOptions(dir)) // SyncStrict: durable when Append returns
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	id, _ := w.Append("events", []byte("created"))
	r, _ := w.AppendBatch("events", [][]byte{[]byte("updated"), []byte("deleted")})
	fmt.Println("append:", id, "batch:", r)

	entry, _ := w.Get("events", 1)
	fmt.Println("get 1:", string(entry))

	it, err := w.Iter("events", 0)
	if err != nil {
		log.Fatal(err)
	}
	defer it.Close()
	for it.Next() {
		fmt.Println(it.ID(), string(it.Entry()))
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// append: 0 batch: [1, 3)
	// get 1: updated
	// 0 created
	// 1 updated
	// 2 deleted
}

func ExampleWAL_Writer() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)
	w, _ := wal.Open(wal.DefaultOptions(dir))
	defer w.Close()

	tx := w.Writer("orders")
	tx.Add([]byte("order 1"))
	tx.Add([]byte("order 2"))
	r, err := tx.Commit() // all or nothing, even across a crash
	fmt.Println(r, err)
	// Output: [0, 2) <nil>
}

// ExampleSharded follows the usage pattern of the sharded WAL: write by key, checkpoint,
// restore from the latest checkpoint, then clean up.
func ExampleSharded() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)

	opts := wal.DefaultOptions(dir)
	opts.SyncMode = wal.SyncBatchOnly // fsync on batches and checkpoints, not on every Append
	sw, err := wal.NewSharded(opts, 16)
	if err != nil {
		log.Fatal(err)
	}
	defer sw.Close()

	// Write data.
	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("user_%d", i)
		if _, _, err := sw.Append([]byte(key), []byte("data")); err != nil {
			log.Fatal(err)
		}
	}

	// Create a checkpoint.
	if err := sw.CreateCheckpoint([]byte("snapshot_1")); err != nil {
		log.Fatal(err)
	}

	// Restore from the latest checkpoint: replay each shard from its offset.
	id, checkpoint, err := sw.LoadLatestCheckpoint()
	if err != nil {
		log.Fatal(err)
	}
	replayed := 0
	for shard := wal.ShardID(0); shard < 16; shard++ {
		it, err := sw.IterShard(shard, checkpoint.Offsets[shard])
		if err != nil {
			log.Fatal(err)
		}
		for it.Next() {
			replayed++ // process it.Entry()
		}
		it.Close()
	}
	fmt.Printf("checkpoint %s, %d entries after it\n", id, replayed)

	// Clean up.
	if _, err := sw.PruneBeforeCheckpoint([]byte("snapshot_1")); err != nil {
		log.Fatal(err)
	}
	if _, err := sw.CompactCheckpoints(5); err != nil {
		log.Fatal(err)
	}
	fmt.Println("checkpoints kept:", sw.CheckpointCount())
	// Output:
	// checkpoint snapshot_1, 0 entries after it
	// checkpoints kept: 1
}
