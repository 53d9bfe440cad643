package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/cli"
)

// runDemo writes keys to a local file bucket, flushes, and reads them back with a reader,
// printing what it cost.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "isledb-data", "the local directory that serves as the bucket")
	cacheDir := fs.String("cache", "isledb-cache", "the reader's cache directory")
	keys := fs.Int("keys", 300_000, "how many keys to write")
	valueSize := fs.Int("value-size", 100, "bytes per value")
	gets := fs.Int("gets", 20_000, "how many point reads to time")
	keep := fs.Bool("keep", false, "keep the data of earlier runs (by default the demo starts empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keys < 1 || *valueSize < 0 || *gets < 0 {
		return errors.New("-keys must be at least 1, -value-size and -gets not negative")
	}
	ctx := context.Background()
	const prefix = "demo"
	if !*keep {
		if err := os.RemoveAll(filepath.Join(*dir, prefix)); err != nil {
			return err
		}
		if err := os.RemoveAll(*cacheDir); err != nil {
			return err
		}
	}
	store, err := blobstore.NewFile(ctx, *dir, prefix)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Printf("IsleDB demo: %d keys of 16 bytes with %d-byte values, bucket %s/%s\n\n", *keys, *valueSize, *dir, prefix)

	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.MemtableSize = 8 << 20 // several SSTs for a few hundred thousand keys
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		return err
	}
	key := func(i int) []byte { // 16 bytes, spread over the key space
		var k [16]byte
		binary.BigEndian.PutUint64(k[:8], uint64(i)*0x9E3779B97F4A7C15)
		binary.BigEndian.PutUint64(k[8:], uint64(i))
		return k[:]
	}
	value := make([]byte, *valueSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range value {
		value[i] = 'a' + byte(rng.IntN(26))
	}

	before := store.Stats()
	start := time.Now()
	bar := cli.NewRateProgress(os.Stdout, "put", *keys)
	for i := range *keys {
		binary.BigEndian.PutUint32(value, uint32(i))
		for {
			err = w.Put(key(i), value)
			if !errors.Is(err, isledb.ErrBackpressure) {
				break
			}
			time.Sleep(time.Millisecond) // the flush queue is full: let it drain
		}
		if err != nil {
			return err
		}
		bar.Update(i + 1)
	}
	putTime := time.Since(start)
	flushStart := time.Now()
	if err := w.Flush(ctx); err != nil {
		return err
	}
	flushTime := time.Since(flushStart)
	if err := w.Close(); err != nil {
		return err
	}
	writeStats := store.Stats().Sub(before)
	total := time.Since(start)
	mb := float64(*keys*(16+*valueSize)) / (1 << 20)
	fmt.Printf("wrote %d keys (%.1f MiB) in %v: %.0f puts/s, %.1f MiB/s including flushes (final flush %v)\n",
		*keys, mb, total.Round(time.Millisecond), float64(*keys)/total.Seconds(), mb/total.Seconds(), flushTime.Round(time.Millisecond))
	fmt.Printf("  put calls alone: %v (%.0f/s)\n", putTime.Round(time.Millisecond), float64(*keys)/putTime.Seconds())
	fmt.Printf("  requests: %v\n\n", writeStats)

	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: *cacheDir})
	if err != nil {
		return err
	}
	defer r.Close()
	m := r.ManifestUnsafe()
	var sstBytes int64
	for _, s := range m.L0SSTs {
		sstBytes += s.Size
	}
	fmt.Printf("manifest: log position %d, %d L0 SSTs (%.1f MiB), %d sorted runs, writer epoch %d\n\n",
		m.LogSeq, m.L0SSTCount(), float64(sstBytes)/(1<<20), m.SortedRunCount(), m.WriterFence.Epoch)

	before = store.Stats()
	lat := make([]time.Duration, 0, *gets)
	bar = cli.NewRateProgress(os.Stdout, "get", *gets)
	for i := range *gets {
		k := rng.IntN(*keys)
		t := time.Now()
		v, ok, err := r.Get(ctx, key(k))
		lat = append(lat, time.Since(t))
		if err != nil {
			return err
		}
		if !ok || binary.BigEndian.Uint32(v) != uint32(k) {
			return fmt.Errorf("key %d: read back wrong value (found %v)", k, ok)
		}
		bar.Update(i + 1)
	}
	getStats := store.Stats().Sub(before)
	slices.Sort(lat)
	if len(lat) > 0 {
		fmt.Printf("%d gets: p50 %v, p99 %v, max %v (the first get of each SST downloads it into the cache)\n",
			len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
		fmt.Printf("  requests: %v\n", getStats)
	}
	missStart := time.Now()
	for i := range 10_000 {
		if _, ok, err := r.Get(ctx, key(*keys+i)); err != nil || ok {
			return fmt.Errorf("absent key %d: found %v, err %v", *keys+i, ok, err)
		}
	}
	fmt.Printf("10000 gets of absent keys: %v each\n", (time.Since(missStart) / 10_000).Round(time.Nanosecond))

	scanStart := time.Now()
	kvs, err := r.ScanLimit(ctx, nil, nil, 100_000)
	if err != nil {
		return err
	}
	scanTime := time.Since(scanStart)
	fmt.Printf("scan of the first %d keys: %v (%.0f keys/s)\n", len(kvs), scanTime.Round(time.Millisecond), float64(len(kvs))/scanTime.Seconds())
	fmt.Printf("SST cache: %v\n", r.SSTCacheStats())
	return nil
}
