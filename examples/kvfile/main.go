// Command kvfile shows IsleDB on a local file bucket: a writer puts keys, a reader reads
// them back, and a tailing reader follows new keys as they are flushed.
//
//	go run ./examples/kvfile -dir ./kvfile-data
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

func main() {
	dir := flag.String("dir", "kvfile-data", "directory for the bucket and the caches")
	events := flag.Int("events", 20, "how many keys the tailer should see")
	flag.Parse()
	if err := run(context.Background(), *dir, *events, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string, events int, out io.Writer) error {
	store, err := blobstore.NewFile(ctx, filepath.Join(dir, "bucket"), "db1")
	if err != nil {
		return err
	}
	defer store.Close()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		return err
	}
	defer db.Close()

	// Writer: put a batch and flush it to the bucket.
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = 50 * time.Millisecond
	writer, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		return err
	}
	defer writer.Close()
	for _, kv := range [][2]string{{"hello", "world"}, {"foo", "bar"}} {
		if err := writer.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
			return err
		}
	}
	if err := writer.Flush(ctx); err != nil {
		return err
	}

	// Reader: a separate handle on the same bucket and prefix.
	reader, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: filepath.Join(dir, "cache-reader")})
	if err != nil {
		return err
	}
	defer reader.Close()
	value, ok, err := reader.Get(ctx, []byte("hello"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "reader: hello=%s (found %v)\n", value, ok)

	// Tailing reader: follow keys under "event/" as the writer adds them.
	tr, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{
		RefreshInterval: 20 * time.Millisecond,
		ReaderOptions:   isledb.ReaderOpenOptions{CacheDir: filepath.Join(dir, "cache-tailer")},
	})
	if err != nil {
		return err
	}
	defer tr.Close()
	if err := tr.Start(); err != nil {
		return err
	}
	go func() {
		for i := range events {
			_ = writer.Put(fmt.Appendf(nil, "event/%06d", i), fmt.Appendf(nil, "payload %d", i))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seen := 0
	errDone := fmt.Errorf("done")
	err = tr.Tail(tctx, isledb.TailOptions{MinKey: []byte("event/"), MaxKey: []byte("event/~"), PollInterval: 20 * time.Millisecond},
		func(kv isledb.KV) error {
			fmt.Fprintf(out, "tail: %s=%s\n", kv.Key, kv.Value)
			if seen++; seen == events {
				return errDone
			}
			return nil
		})
	if err != errDone {
		return fmt.Errorf("tail: %w", err)
	}
	fmt.Fprintf(out, "tailed %d events\n", seen)
	return nil
}
