// Command walazblob uses IsleDB as a write-ahead event stream on Azure Blob Storage: a
// producer appends events under increasing keys and a consumer tails them, resuming after
// the last event it processed.
//
// Against Azurite (the Azure Storage emulator, from npm: scripts/test-servers.sh starts
// one), with AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY set:
//
//	go run ./examples/walazblob -url 'azblob://events?protocol=http&domain=127.0.0.1:10000'
//
// The container must exist.
package main

import (
	"context"
	"encoding/binary"
	"errors"
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
	url := flag.String("url", "", "Azure Blob container URL (azblob://...)")
	prefix := flag.String("prefix", "events", "prefix of the stream in the container")
	events := flag.Int("events", 100, "events to produce and consume")
	cache := flag.String("cache", "walazblob-cache", "the consumer's cache directory")
	flag.Parse()
	if *url == "" {
		log.Fatal("-url is required")
	}
	if err := run(context.Background(), *url, *prefix, *cache, *events, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// eventKey makes keys that sort in append order: "evt/" and a big-endian counter.
func eventKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("evt/"), n)
}

func run(ctx context.Context, url, prefix, cacheDir string, events int, out io.Writer) error {
	store, err := blobstore.Open(ctx, url, prefix)
	if err != nil {
		return err
	}
	defer store.Close()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = 100 * time.Millisecond // an event is in the bucket within ~100ms
	producer, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		return err
	}
	defer producer.Close()

	consume := func(startAfter []byte, limit int) ([]byte, int, error) {
		tr, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{
			RefreshInterval: 50 * time.Millisecond,
			ReaderOptions:   isledb.ReaderOpenOptions{CacheDir: filepath.Join(cacheDir, fmt.Sprint("consumer-", limit))},
		})
		if err != nil {
			return nil, 0, err
		}
		defer tr.Close()
		if err := tr.Start(); err != nil {
			return nil, 0, err
		}
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		n, last := 0, startAfter
		stop := errors.New("stop")
		err = tr.Tail(tctx, isledb.TailOptions{MinKey: []byte("evt/"), MaxKey: []byte("evt0"), StartAfterKey: startAfter},
			func(kv isledb.KV) error {
				fmt.Fprintf(out, "consumed event %d: %s\n", binary.BigEndian.Uint64(kv.Key[4:]), kv.Value)
				last, n = kv.Key, n+1
				if n == limit {
					return stop
				}
				return nil
			})
		if !errors.Is(err, stop) {
			return last, n, fmt.Errorf("tail: %w", err)
		}
		return last, n, nil
	}

	go func() {
		for i := range events {
			_ = producer.Put(eventKey(uint64(i)), fmt.Appendf(nil, `{"event":%d,"at":%q}`, i, time.Now().Format(time.RFC3339Nano)))
			time.Sleep(time.Millisecond)
		}
	}()
	// The consumer processes part of the stream, "restarts", and resumes after the last
	// event it saw: nothing is lost and nothing repeats.
	first := events / 2
	last, n1, err := consume(nil, first)
	if err != nil {
		return err
	}
	_, n2, err := consume(last, events-first)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "consumed %d events (%d before the restart, %d after)\n", n1+n2, n1, n2)
	return nil
}
