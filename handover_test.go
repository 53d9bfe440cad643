package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
	"github.com/isledb/isledb/manifest"
)

// TestFencedFlushNeverReportsSuccess (issue 12, defect 1): W1's manifest append fails
// (nothing written); W2 claims the role and flushes; once the outage ends W1's Flush and
// Close must fail with manifest.ErrFenced, never return nil, and W1's writes, still in its
// WAL, come back when a writer reopens on that WAL directory.
func TestFencedFlushNeverReportsSuccess(t *testing.T) {
	ctx := context.Background()
	base := blobstore.NewMemory("db")
	faulty, fb := faultstore.Wrap(base)
	db1, _ := isledb.OpenDB(ctx, faulty, isledb.DBOptions{})
	db2, _ := isledb.OpenDB(ctx, blobstore.NewWithBackend(base.Backend(), "", "db"), isledb.DBOptions{})
	defer db1.Close()
	defer db2.Close()
	walDir := t.TempDir()
	w1, err := db1.OpenWriter(ctx, walWriterOptions(walDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"old", "from-w1"} {
		for i := range 5 {
			if err := w1.Put(fmt.Appendf(nil, "w1-%d", i), []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		if v == "old" {
			if err := w1.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	fb.FailIf(faultstore.PutsTo("manifest/log/"), -1, nil) // the outage: no append lands
	if err := w1.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded during the outage")
	}
	w2, err := db2.OpenWriter(ctx, walWriterOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := w2.Put(fmt.Appendf(nil, "w2-%d", i), []byte("from-w2")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fb.Clear() // the outage ends
	// W1 retries in the background; each Flush reports the next attempt. Whatever the
	// timing, none may report success, and the writer ends up fenced.
	for i := 0; ; i++ {
		err := w1.Flush(ctx)
		if err == nil {
			t.Fatal("fenced W1's Flush returned nil: its writes are not in the database")
		}
		if errors.Is(err, manifest.ErrFenced) {
			break
		}
		if i == 20 {
			t.Fatalf("fenced W1's Flush = %v, want an error wrapping manifest.ErrFenced", err)
		}
	}
	if err := w1.Close(); !errors.Is(err, manifest.ErrFenced) {
		t.Fatalf("fenced W1's Close = %v, want an error wrapping manifest.ErrFenced", err)
	}
	mustGet(t, base, "w1-0", "old")
	mustGet(t, base, "w2-9", "from-w2")
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	// W1's writes are still in its WAL: a writer on that directory brings them back.
	w3, err := db2.OpenWriter(ctx, walWriterOptions(walDir))
	if err != nil {
		t.Fatal(err)
	}
	if st := w3.WALReplayStats(); st.Rebased != 5 {
		t.Errorf("replay: %v, want 5 rebased", st)
	}
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustGet(t, base, fmt.Sprint("w1-", i), "from-w1")
	}
	mustGet(t, base, "w2-0", "from-w2")
}

// TestStaleWALReplayKeepsNewerWrites (issue 12, defect 2): writer A acknowledges y and x
// (in its WAL) and crashes; writer B, without A's WAL, overwrites x and flushes; a writer
// reopened on A's WAL must not let A's older x shadow B's, and must not drop A's y. A's
// write of a key the database holds no version of (n) cannot be judged (B may have deleted
// it and compaction dropped the tombstone): OpenWriter reports it with ErrWALStale, and
// opens with DiscardUnresolvedWAL.
func TestStaleWALReplayKeepsNewerWrites(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	defer db.Close()
	dirA := t.TempDir()
	a, err := db.OpenWriter(ctx, walWriterOptions(dirA))
	if err != nil {
		t.Fatal(err)
	}
	put := func(w *isledb.Writer, k, v string) {
		t.Helper()
		if err := w.Put([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "x", "x-A-flushed")
	put(a, "y", "y-A-flushed")
	put(a, "z", "z-A-flushed")
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	put(a, "y", "y-A-unflushed")
	put(a, "x", "x-A-unflushed")
	put(a, "z", "z-A-unflushed")
	put(a, "n", "n-A-unflushed")
	a.CrashForTest()

	b, err := db.OpenWriter(ctx, walWriterOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	put(b, "x", "x-B-newer")
	if err := b.Delete([]byte("z")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := db.OpenWriter(ctx, walWriterOptions(dirA)); !errors.Is(err, isledb.ErrWALStale) {
		t.Fatalf("OpenWriter on A's WAL = %v, want ErrWALStale (n cannot be judged)", err)
	}
	mustGet(t, store, "x", "x-B-newer") // nothing was replayed
	opts := walWriterOptions(dirA)
	opts.DiscardUnresolvedWAL = true
	c, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	st := c.WALReplayStats()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, store, "x", "x-B-newer")
	mustGet(t, store, "y", "y-A-unflushed")
	mustGet(t, store, "z", "")
	mustGet(t, store, "n", "")
	if st.Rebased != 1 || st.Superseded != 2 || st.Discarded != 1 || st.Replayed != 0 {
		t.Errorf("replay: %v; want 1 rebased, 2 superseded, 1 discarded", st)
	}
	// The log is empty now: another reopen changes nothing.
	d, err := db.OpenWriter(ctx, walWriterOptions(dirA))
	if err != nil {
		t.Fatal(err)
	}
	if st := d.WALReplayStats(); st.Replayed+st.Rebased != 0 {
		t.Errorf("second replay: %v", st)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, store, "x", "x-B-newer")
}

// TestDirectSuccessorReplaysOwnSeqs: the usual crash restart (the next writer opens on the
// crashed writer's WAL) replays every unflushed write under its own sequence number.
func TestDirectSuccessorReplaysOwnSeqs(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	defer db.Close()
	dir := t.TempDir()
	a, err := db.OpenWriter(ctx, walWriterOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := a.Put(fmt.Appendf(nil, "k%02d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
			t.Fatal(err)
		}
		if i == 9 {
			if err := a.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.CrashForTest()
	b, err := db.OpenWriter(ctx, walWriterOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	if st := b.WALReplayStats(); st.Replayed != 10 || st.Rebased+st.Superseded+st.Discarded != 0 {
		t.Errorf("replay: %v, want 10 replayed", st)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustGet(t, store, fmt.Sprintf("k%02d", i), fmt.Sprint("v", i))
	}
}
