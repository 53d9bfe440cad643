package isledb_test

import (
	"bufio"
	"context"
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
// WAL; every write the child saw acknowledged must then be readable, with its value. 200
// cycles; ISLEDB_WAL_CRASH_CYCLES sets another count.
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
	totalAcked := 0
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
		for n := range acked {
			k := fmt.Sprintf("c%04d-%05d", cycle, n)
			v, ok, err := r.Get(ctx, []byte(k))
			if err != nil || !ok || string(v) != walValue(cycle, n) {
				t.Fatalf("cycle %d: acknowledged write %s lost after SIGKILL: %q, %v, %v", cycle, k, v, ok, err)
			}
		}
		// Writes are acknowledged in order: everything before an acknowledged write is
		// there too (no gap).
		maxAck := -1
		for n := range acked {
			maxAck = max(maxAck, n)
		}
		for n := 0; n < maxAck; n++ {
			if _, ok, _ := r.Get(ctx, fmt.Appendf(nil, "c%04d-%05d", cycle, n)); !ok {
				t.Fatalf("cycle %d: write %d missing before acknowledged write %d", cycle, n, maxAck)
			}
		}
		_ = r.Close()
		_ = db.Close()
		_ = store.Close()
	}
	t.Logf("%d kill cycles, %d acknowledged writes checked", cycles, totalAcked)
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
	for n := 0; ; n++ {
		if err := w.Put(fmt.Appendf(nil, "c%04d-%05d", cycle, n), []byte(walValue(cycle, n))); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "ack %d\n", n)
		_ = out.Flush()
	}
}
