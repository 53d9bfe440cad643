package isledb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

// waveGate holds every request of a store until the test releases it, so that a test
// can count the sequential round trips of an operation: requests released together form
// one wave; a request that arrives only after a wave was released depended on it. The
// order is the protocol's, never the clock's (the timeout only turns a hang into a
// failure).
type waveGate struct {
	mu      sync.Mutex
	on      bool
	pending []string
	release chan struct{}
	arrived chan struct{}
}

func newWaveGate() *waveGate {
	return &waveGate{release: make(chan struct{}), arrived: make(chan struct{}, 1<<16)}
}

func (g *waveGate) before(op, key string) {
	g.mu.Lock()
	if !g.on {
		g.mu.Unlock()
		return
	}
	if i := strings.Index(key, "manifest/"); i >= 0 {
		key = key[i+len("manifest/"):]
	}
	g.pending = append(g.pending, op+" "+key)
	ch := g.release
	g.mu.Unlock()
	g.arrived <- struct{}{}
	<-ch
}

// next waits until n requests are held, releases every request held, and returns them.
func (g *waveGate) next(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		g.mu.Lock()
		if len(g.pending) >= n {
			wave := g.pending
			g.pending = nil
			close(g.release)
			g.release = make(chan struct{})
			g.mu.Unlock()
			slices.Sort(wave)
			return wave
		}
		held := slices.Clone(g.pending)
		g.mu.Unlock()
		select {
		case <-g.arrived:
		case <-timeout.C:
			t.Fatalf("waiting for %d concurrent requests, %d arrived: %q (the operation made fewer, or made them one after another)", n, len(held), held)
		}
	}
}

func (g *waveGate) set(on bool) {
	g.mu.Lock()
	g.on = on
	g.mu.Unlock()
}

// gatedStore returns a handle on store's bucket whose requests pass through gate.
func gatedStore(store *blobstore.Store, gate *waveGate) *blobstore.Store {
	return blobstore.NewWithBackend(&testutil.HookBackend{Backend: store.Backend(), Before: gate.before}, "", store.Prefix())
}

// TestFlushRequests: a durable flush costs two requests, the SST's PUT and the manifest
// entry's conditional PUT; no LIST confirms the entry (manifest/confirm.go).
func TestFlushRequests(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db := openTestDB(t, store)
		wopts := isledb.DefaultWriterOptions()
		wopts.FlushInterval = time.Hour // flushes only when asked
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i := range 5 {
			if err := w.Put([]byte(fmt.Sprintf("k%d", i)), []byte("v")); err != nil {
				t.Fatal(err)
			}
			before := store.Stats()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			d := store.Stats().Sub(before)
			if d.Requests() != 2 || d.Puts+d.CondPuts != 2 || d.Lists != 0 {
				t.Fatalf("flush %d: %s; want exactly 2 requests (SST PUT, manifest conditional PUT)", i, d)
			}
		}
	})
}

// TestReaderOpenRoundTrips: opening a reader takes two sequential round trips while the
// log is short: the listings of the snapshots and of the log, concurrently, then the
// newest snapshot and every slot after it up to the last listed entry plus two (the end
// and the hole probe), concurrently. A refresh that finds nothing new is one GET.
func TestReaderOpenRoundTrips(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db := openTestDB(t, store)
		w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := w.Put([]byte(fmt.Sprintf("k%d", i)), []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ms := manifest.NewStore(store)
		m, err := ms.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ms.WriteSnapshot(ctx, m); err != nil {
			t.Fatal(err)
		}
		// Three more flushes after the snapshot.
		w, err = db.OpenWriter(ctx, isledb.DefaultWriterOptions())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := w.Put([]byte(fmt.Sprintf("j%d", i)), []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		end, err := ms.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		gate := newWaveGate()
		gated := gatedStore(store, gate)
		gate.set(true)
		type opened struct {
			r   *isledb.Reader
			err error
		}
		done := make(chan opened, 1)
		go func() {
			r, err := isledb.OpenReader(ctx, gated, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
			done <- opened{r, err}
		}()
		s, e := m.LogSeq, end.LogSeq
		waves := [][]string{gate.next(t, 2), gate.next(t, int(e-s)+3)}
		res := <-done
		gate.set(false)
		if res.err != nil {
			t.Fatal(res.err)
		}
		defer res.r.Close()
		want := [][]string{{"list log/", "list snapshot/"}, nil}
		for seq := s + 1; seq <= e+2; seq++ {
			want[1] = append(want[1], fmt.Sprintf("get log/%020d", seq))
		}
		want[1] = append(want[1], fmt.Sprintf("get snapshot/%020d", s))
		if fmt.Sprint(waves) != fmt.Sprint(want) {
			t.Fatalf("open: waves %q, want %q", waves, want)
		}
		if got := res.r.Manifest().LogSeq; got != e {
			t.Fatalf("reader at %d, want %d", got, e)
		}

		// Nothing new: one GET.
		before := gated.Stats()
		if err := res.r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if d := gated.Stats().Sub(before); d.Requests() != 1 || d.Gets != 1 {
			t.Fatalf("idle refresh: %s; want 1 GET", d)
		}
	})
}
