package isledb_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

const (
	walChildEnv    = "ISLEDB_WAL_WRITER_CHILD"
	walCyclesEnv   = "ISLEDB_WAL_CRASH_CYCLES"
	walCrashPrefix = "db"
)

// TestWriterWALCrash kills a child process running a writer with the WAL on (strict
// mode) at random moments, with SIGKILL. After each kill, reopening a writer replays the
// WAL; every write the child saw acknowledged must then be readable, with its value. Some
// of the child's operations are batches (walBatchSize), some larger than its memtable:
// after recovery each batch is there whole or not at all, including the one the kill
// interrupted. 200 cycles; ISLEDB_WAL_CRASH_CYCLES sets another count.
func TestWriterWALCrash(t *testing.T) {
	if os.Getenv(walChildEnv) != "" {
		t.Skip("child")
	}
	cycles := 200
	if s := os.Getenv(walCyclesEnv); s != "" {
		cycles, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		cycles = 20
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	totalAcked, totalBatches := 0, 0
	for cycle := range cycles {
		cmd := exec.Command(exe, "-test.run=^TestWriterWALChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), walChildEnv+"="+dir, "ISLEDB_WAL_CYCLE="+strconv.Itoa(cycle))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of acknowledgements (0 to 60), or at a deadline.
		killAfter := rng.IntN(61)
		acked := map[int]bool{}
		sc := bufio.NewScanner(stdout)
		deadline := time.AfterFunc(5*time.Second, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		for sc.Scan() {
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "ack %d", &n); err == nil {
				acked[n] = true
				if len(acked) >= killAfter {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			}
		}
		deadline.Stop()
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_, _ = cmd.Process.Wait()
		totalAcked += len(acked)

		// Recover: a new writer replays the WAL and flushes; then read everything back.
		store, err := blobstore.NewFile(ctx, filepath.Join(dir, "bucket"), walCrashPrefix)
		if err != nil {
			t.Fatal(err)
		}
		db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
		wopts := isledb.DefaultWriterOptions()
		wopts.WALDir = filepath.Join(dir, "wal")
		w, err := db.OpenWriter(ctx, wopts)
		if err != nil {
			t.Fatalf("cycle %d: reopen writer: %v", cycle, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("cycle %d: close writer: %v", cycle, err)
		}
		r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: filepath.Join(dir, "cache")})
		if err != nil {
			t.Fatal(err)
		}
		// present returns how many of the writes of operation n are readable, of how many.
		present := func(n int) (int, int) {
			if bs := walBatchSize(n); bs > 0 {
				got := 0
				for i := range bs {
					k := walBatchKey(cycle, n, i)
					v, ok, err := r.Get(ctx, k)
					if err != nil || (ok && string(v) != walBatchValue(cycle, n, i)) {
						t.Fatalf("cycle %d: batch write %s = %q, %v", cycle, k, v, err)
					}
					if ok {
						got++
					}
				}
				return got, bs
			}
			k := fmt.Sprintf("c%04d-%05d", cycle, n)
			v, ok, err := r.Get(ctx, []byte(k))
			if err != nil || (ok && string(v) != walValue(cycle, n)) {
				t.Fatalf("cycle %d: write %s = %q, %v", cycle, k, v, err)
			}
			if ok {
				return 1, 1
			}
			return 0, 1
		}
		maxAck := -1
		for n := range acked {
			maxAck = max(maxAck, n)
		}
		for n := range acked {
			if got, all := present(n); got != all {
				t.Fatalf("cycle %d: acknowledged operation %d lost after SIGKILL: %d of its %d writes readable", cycle, n, got, all)
			}
		}
		// Writes are acknowledged in order: everything before an acknowledged write is
		// there too (no gap). The operation after the last acknowledged one may have been
		// logged or not, but a batch is there whole or not at all.
		for n := 0; n <= maxAck+1; n++ {
			got, all := present(n)
			if n < maxAck && got != all {
				t.Fatalf("cycle %d: operation %d missing before acknowledged operation %d (%d of %d writes)", cycle, n, maxAck, got, all)
			}
			if got != 0 && got != all {
				t.Fatalf("cycle %d: batch %d partly applied after SIGKILL: %d of its %d writes readable", cycle, n, got, all)
			}
			if got > 0 && walBatchSize(n) > 0 {
				totalBatches++
			}
		}
		_ = r.Close()
		_ = db.Close()
		_ = store.Close()
	}
	t.Logf("%d kill cycles, %d acknowledged operations checked, %d batches found whole", cycles, totalAcked, totalBatches)
}

// walBatchSize returns how many writes operation n of a crash cycle applies as one batch,
// or 0 if it is a single Put. Every tenth is a batch of 80 writes of about 1 KiB, above the
// child's 64 KiB memtable.
func walBatchSize(n int) int {
	switch {
	case n%10 == 5:
		return 80
	case n%3 == 2:
		return n%5 + 2
	}
	return 0
}

func walBatchKey(cycle, n, i int) []byte { return fmt.Appendf(nil, "c%04d-%05d-%02d", cycle, n, i) }

func walBatchValue(cycle, n, i int) string {
	pad := i * 7 % 50
	if walBatchSize(n) == 80 {
		pad = 1000
	}
	return fmt.Sprintf("batch-%d-%d-%d-%s", cycle, n, i, strings.Repeat("x", pad))
}

func walValue(cycle, n int) string {
	return fmt.Sprintf("value-%d-%d-%s", cycle, n, strings.Repeat("x", n%50))
}

// TestWriterWALChild is the child of TestWriterWALCrash: it writes until killed,
// printing each acknowledged write.
func TestWriterWALChild(t *testing.T) {
	dir := os.Getenv(walChildEnv)
	if dir == "" {
		t.Skip("run by TestWriterWALCrash")
	}
	cycle, _ := strconv.Atoi(os.Getenv("ISLEDB_WAL_CYCLE"))
	ctx := context.Background()
	store, err := blobstore.NewFile(ctx, filepath.Join(dir, "bucket"), walCrashPrefix)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	wopts := isledb.DefaultWriterOptions()
	wopts.WALDir = filepath.Join(dir, "wal")
	wopts.FlushInterval = 15 * time.Millisecond // some writes land in SSTs, some only in the WAL
	wopts.MemtableSize = 64 << 10
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	b := w.NewBatch()
	for n := 0; ; n++ {
		if bs := walBatchSize(n); bs > 0 {
			b.Reset()
			for i := range bs {
				b.Put(walBatchKey(cycle, n, i), []byte(walBatchValue(cycle, n, i)))
			}
			for {
				err := w.Apply(ctx, b)
				if errors.Is(err, isledb.ErrBackpressure) {
					if err := w.Flush(ctx); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				break
			}
		} else if err := w.Put(fmt.Appendf(nil, "c%04d-%05d", cycle, n), []byte(walValue(cycle, n))); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "ack %d\n", n)
		_ = out.Flush()
	}
}
