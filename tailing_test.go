package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

func openTailer(t *testing.T, store *blobstore.Store, refresh time.Duration) *isledb.TailingReader {
	t.Helper()
	tr, err := isledb.OpenTailingReader(context.Background(), store, isledb.TailingReaderOpenOptions{
		RefreshInterval: refresh,
		ReaderOptions:   isledb.ReaderOpenOptions{CacheDir: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// TestTailExactlyOnce: a tailer started before the writes receives every key written
// afterwards, in order, exactly once, across many flushes; then a restarted tailer
// resumes after the last key seen, losing and repeating nothing.
func TestTailExactlyOnce(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db := openTestDB(t, store)
		wopts := isledb.DefaultWriterOptions()
		wopts.FlushInterval = 20 * time.Millisecond
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		// A compactor merges the flushes into sorted runs while the tailer reads.
		copts := isledb.DefaultCompactorOptions()
		copts.L0CompactionThreshold = 2
		copts.MinSources, copts.MaxSources = 2, 4
		copts.CheckInterval = 5 * time.Millisecond
		copts.GCGracePeriod = time.Minute
		c, err := db.OpenCompactor(ctx, copts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Start()
		tr := openTailer(t, store, 10*time.Millisecond)
		if err := tr.Start(); err != nil {
			t.Fatal(err)
		}
		const total, firstRun = 600, 350
		key := func(i int) string { return fmt.Sprintf("event-%06d", i) }
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		var got []string
		done := make(chan error, 1)
		go func() {
			done <- tr.Tail(tctx, isledb.TailOptions{MinKey: []byte("event-"), MaxKey: []byte("event-~"), PollInterval: 10 * time.Millisecond},
				func(kv isledb.KV) error {
					if string(kv.Value) != "payload-"+string(kv.Key) {
						return fmt.Errorf("key %s has value %q", kv.Key, kv.Value)
					}
					got = append(got, string(kv.Key))
					if len(got) == firstRun {
						return errStopTail
					}
					return nil
				})
		}()
		for i := range total {
			if err := w.Put([]byte(key(i)), []byte("payload-"+key(i))); err != nil {
				t.Fatal(err)
			}
			if i%50 == 49 {
				if err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if i%150 == 149 {
				// Besides the background loop, publish a compaction now, while the tailer
				// reads: the test never depends on how fast the loop gets its turn.
				if err := c.RunCompaction(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = w.Put([]byte("other-key"), []byte("outside the range"))
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, errStopTail) {
			t.Fatalf("Tail ended with %v, want the handler's error", err)
		}
		// Resume from the last key seen, in a new tailing reader.
		tr2 := openTailer(t, store, 10*time.Millisecond)
		err = tr2.Tail(tctx, isledb.TailOptions{MinKey: []byte("event-"), MaxKey: []byte("event-~"), StartAfterKey: []byte(got[len(got)-1])},
			func(kv isledb.KV) error {
				got = append(got, string(kv.Key))
				if len(got) == total {
					return errStopTail
				}
				return nil
			})
		if !errors.Is(err, errStopTail) {
			t.Fatalf("resumed Tail: %v (got %d of %d)", err, len(got), total)
		}
		for i, k := range got {
			if k != key(i) {
				t.Fatalf("event %d is %s, want %s", i, k, key(i))
			}
		}
		if st := c.Stats(); st.Compactions == 0 {
			t.Fatalf("no compaction was published during the tail (%d failed): the test did not test tailing across compactions", st.Failures)
		}
	})
}

var errStopTail = errors.New("enough")

// TestTailChannelCloses: both channels close on context cancellation and on Stop, and the
// error channel says why.
func TestTailChannelCloses(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	w, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	defer w.Close()
	writeKeys(t, w, 0, 3)

	tr := openTailer(t, store, 10*time.Millisecond)
	cctx, cancel := context.WithCancel(ctx)
	kvs, errc := tr.TailChannel(cctx, isledb.TailOptions{})
	for range 3 {
		<-kvs
	}
	cancel()
	drain(t, kvs)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	if _, open := <-errc; open {
		t.Fatal("error channel not closed")
	}

	kvs, errc = tr.TailChannel(ctx, isledb.TailOptions{})
	for range 3 {
		<-kvs
	}
	tr.Stop()
	drain(t, kvs)
	if err := <-errc; !errors.Is(err, isledb.ErrTailingReaderStopped) {
		t.Fatalf("after Stop: %v", err)
	}
	if err := tr.Start(); !errors.Is(err, isledb.ErrTailingReaderStopped) {
		t.Fatalf("Start after Stop: %v", err)
	}
	// Tail on a stopped reader ends at once; reads still work.
	if err := tr.Tail(ctx, isledb.TailOptions{}, func(isledb.KV) error { return nil }); !errors.Is(err, isledb.ErrTailingReaderStopped) {
		t.Fatalf("Tail after Stop: %v", err)
	}
	if _, ok, err := tr.Get(ctx, []byte("key-00001")); !ok || err != nil {
		t.Fatalf("Get after Stop: %v, %v", ok, err)
	}
}

func drain(t *testing.T, kvs <-chan isledb.KV) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-kvs:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the KV channel was not closed")
		}
	}
}

// TestIdleTailerRequests: a tailer with nothing new makes at most about one small GET per
// refresh, and never lists the bucket on a poll.
func TestIdleTailerRequests(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	w, _ := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	writeKeys(t, w, 0, 10)
	_ = w.Close()
	tr := openTailer(t, store, time.Hour) // no background loop ticks: refresh by hand
	before := store.Stats()
	const refreshes = 100
	for range refreshes {
		if err := tr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d := store.Stats().Sub(before)
	perRefresh := float64(d.Requests()) / refreshes
	t.Logf("idle refresh: %v (%.2f requests per refresh)", d, perRefresh)
	if d.Lists > 2 || perRefresh > 1.05 {
		t.Fatalf("idle refreshes cost %.2f requests each (%v); want at most one small GET", perRefresh, d)
	}
	if tr.LastRefresh().IsZero() {
		t.Fatal("LastRefresh not set")
	}
	var mu sync.Mutex
	calls := 0
	tr2, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{
		RefreshInterval: 5 * time.Millisecond,
		OnRefresh:       func() { mu.Lock(); calls++; mu.Unlock() },
		ReaderOptions:   isledb.ReaderOpenOptions{CacheDir: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	_ = tr2.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background loop did not refresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
