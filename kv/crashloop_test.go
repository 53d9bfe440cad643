package kv_test

// The kv crash loop (scripts/kvcrashloop.sh N): a child process opens a Store with the
// default WALSyncMode and writes typed puts, overwrites and deletes from a few goroutines,
// reporting "ack g n" on a pipe after op n of goroutine g returned nil; the parent SIGKILLs
// it at a random instant, opens the Store again (which replays the log) and checks every
// key, with Get and with a scan, against the acknowledged ops. Each goroutine owns its
// keys and runs one op at a time, so at most one op per goroutine is in flight when the
// kill lands: its key may hold the value before it or its own. One more goroutine applies
// batches (Store.Apply), each writing every key of its group: after the kill the group
// must hold one batch whole (the last acknowledged one, or the one in flight), never a
// mix. The same approach as the root package's crashloop_test.go, smaller.

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/isledb/isledb/kv"
)

const (
	kvCrashChildEnv  = "ISLEDB_KV_CRASHLOOP_CHILD"
	kvCrashCyclesEnv = "ISLEDB_KV_CRASHLOOP_CYCLES"
	kvCrashCycleEnv  = "ISLEDB_KV_CRASHLOOP_CYCLE"
	kvCrashG         = 4
	kvCrashKeys      = 40       // per goroutine
	kvCrashBatchG    = kvCrashG // the index of the goroutine applying batches
	kvCrashBatchKeys = 8        // keys of its group, each written by every batch
)

// kvCrashBatch returns batch n of cycle: the value (a tombstone for a delete) it leaves
// in each key of the group, by index.
func kvCrashBatch(cycle, n int) []kv.Value {
	out := make([]kv.Value, kvCrashBatchKeys)
	tag := int64(cycle)<<32 | int64(n)
	for j := range out {
		switch (n + j) % 4 {
		case 0:
			out[j] = kv.TombstoneValue()
		case 1:
			out[j] = kv.StringValue(fmt.Sprintf("b-c%d-n%d-j%d", cycle, n, j))
		default:
			out[j] = kv.Int64Value(tag*10 + int64(j))
		}
	}
	return out
}

func kvCrashBatchKey(j int) string { return fmt.Sprintf("b/k%02d", j) }

// kvCrashOp returns op n of goroutine g in cycle: its key and the value it leaves (a
// tombstone for a delete). A pure function, so the parent knows every op.
func kvCrashOp(cycle, g, n int) (string, kv.Value) {
	key := fmt.Sprintf("g%d/k%03d", g, (n*7+cycle)%kvCrashKeys)
	tag := int64(cycle)<<32 | int64(n)
	switch (n + g + cycle) % 6 {
	case 0:
		return key, kv.TombstoneValue()
	case 1:
		return key, kv.StringValue(fmt.Sprintf("c%d-n%d-%s", cycle, n, strings.Repeat("s", n%300)))
	case 2:
		return key, kv.Float64Value(float64(tag) / 3)
	}
	return key, kv.Int64Value(tag)
}

func kvCrashOptions(dir string) kv.Options {
	o := kv.DefaultOptions(dir)
	// Small memtables and a low trigger: flushes and compactions happen within a cycle.
	o.MemtableSize = 64 << 10
	o.L0CompactionTrigger = 2
	o.CompactionInterval = 50 * time.Millisecond
	return o
}

// TestKVCrashLoop: 20 cycles by default (5 with -short), ISLEDB_KV_CRASHLOOP_CYCLES=N
// for N.
func TestKVCrashLoop(t *testing.T) {
	if os.Getenv(kvCrashChildEnv) != "" {
		t.Skip("child")
	}
	cycles := 20
	if testing.Short() {
		cycles = 5
	}
	if s := os.Getenv(kvCrashCyclesEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive count", kvCrashCyclesEnv, s)
		}
		cycles = n
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x6b76))
	t.Logf("kv crashloop: %d cycles, kill-delay seed %d", cycles, seed)
	model := map[string]kv.Value{}                   // absent: no value (never written or deleted)
	batchState := make([]kv.Value, kvCrashBatchKeys) // the group's durable state
	for j := range batchState {
		batchState[j] = kv.TombstoneValue()
	}
	start := time.Now()
	totalAcked, checks := 0, 0
	for cycle := range cycles {
		delay := time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
		acked, err := runKVCrashChild(exe, dir, cycle, delay)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		allowed := map[string][]kv.Value{}
		for g := range kvCrashG {
			for n := range acked[g] {
				k, v := kvCrashOp(cycle, g, n)
				model[k] = v
			}
			totalAcked += acked[g]
			k, v := kvCrashOp(cycle, g, acked[g]) // possibly in flight
			allowed[k] = []kv.Value{model[k], v}
		}
		s, err := kv.Open(kvCrashOptions(dir))
		if err != nil {
			t.Fatalf("cycle %d: reopen after SIGKILL: %v", cycle, err)
		}
		scanned := map[string]kv.Value{}
		if err := s.ScanPrefix(nil, func(k []byte, v kv.Value) bool {
			v.Bytes = append([]byte(nil), v.Bytes...)
			scanned[string(k)] = v
			return true
		}); err != nil {
			t.Fatalf("cycle %d: scan: %v", cycle, err)
		}
		for g := range kvCrashG {
			for i := range kvCrashKeys {
				k := fmt.Sprintf("g%d/k%03d", g, i)
				checks++
				got, err := s.Get([]byte(k))
				if errors.Is(err, kv.ErrKeyNotFound) {
					got, err = kv.TombstoneValue(), nil
				}
				if err != nil {
					t.Fatalf("cycle %d: Get(%s): %v", cycle, k, err)
				}
				want, ok := allowed[k]
				if !ok {
					want = []kv.Value{model[k]}
				}
				match := false
				for _, w := range want {
					if w.Type == 0 {
						w = kv.TombstoneValue()
					}
					match = match || w.Equal(got)
				}
				if !match {
					t.Fatalf("cycle %d: key %s = %v, want one of %v (acknowledged write lost)", cycle, k, got, want)
				}
				sv, sok := scanned[k]
				if sok != !got.IsTombstone() || (sok && !sv.Equal(got)) {
					t.Fatalf("cycle %d: key %s: Get %v, scan %v (present %v)", cycle, k, got, sv, sok)
				}
				model[k] = got // what the reopened store holds is now durable
			}
		}
		// The batch group holds one batch whole: the last acknowledged or the one in flight.
		before := batchState
		if n := acked[kvCrashBatchG]; n > 0 {
			before = kvCrashBatch(cycle, n-1)
		}
		totalAcked += acked[kvCrashBatchG]
		inFlight := kvCrashBatch(cycle, acked[kvCrashBatchG])
		got := make([]kv.Value, kvCrashBatchKeys)
		matchBefore, matchInFlight := true, true
		for j := range got {
			k := kvCrashBatchKey(j)
			checks++
			v, err := s.Get([]byte(k))
			if errors.Is(err, kv.ErrKeyNotFound) {
				v, err = kv.TombstoneValue(), nil
			}
			if err != nil {
				t.Fatalf("cycle %d: Get(%s): %v", cycle, k, err)
			}
			sv, sok := scanned[k]
			if sok != !v.IsTombstone() || (sok && !sv.Equal(v)) {
				t.Fatalf("cycle %d: key %s: Get %v, scan %v (present %v)", cycle, k, v, sv, sok)
			}
			got[j] = v
			matchBefore = matchBefore && v.Equal(before[j])
			matchInFlight = matchInFlight && v.Equal(inFlight[j])
		}
		if !matchBefore && !matchInFlight {
			t.Fatalf("cycle %d: the batch group holds %v, neither batch %d whole (%v) nor batch %d (%v): a batch was torn or lost",
				cycle, got, acked[kvCrashBatchG]-1, before, acked[kvCrashBatchG], inFlight)
		}
		batchState = got
		if err := s.Close(); err != nil {
			t.Fatalf("cycle %d: close: %v", cycle, err)
		}
		if (cycle+1)%100 == 0 {
			t.Logf("kv crashloop: %d cycles, %d acknowledged writes, %d key checks, no loss, %v", cycle+1, totalAcked, checks, time.Since(start).Round(time.Second))
		}
	}
	t.Logf("kv crashloop: %d cycles, %d acknowledged writes, %d key checks, no loss, %v", cycles, totalAcked, checks, time.Since(start).Round(time.Second))
	if totalAcked == 0 {
		t.Fatal("no write was acknowledged in any cycle: the loop tested nothing")
	}
}

// runKVCrashChild starts a child, SIGKILLs it delay after it is ready, and returns how
// many ops of each goroutine it acknowledged.
func runKVCrashChild(exe, dir string, cycle int, delay time.Duration) ([kvCrashG + 1]int, error) {
	var acked [kvCrashG + 1]int
	pr, pw, err := os.Pipe()
	if err != nil {
		return acked, err
	}
	defer pr.Close()
	cmd := exec.Command(exe, "-test.run=^TestKVCrashLoopChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), kvCrashChildEnv+"="+dir, kvCrashCycleEnv+"="+strconv.Itoa(cycle))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.ExtraFiles = []*os.File{pw} // fd 3
	if err := cmd.Start(); err != nil {
		pw.Close()
		return acked, err
	}
	pw.Close()
	ready := make(chan struct{})
	scanned := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		var bad error
		for sc.Scan() {
			var g, n int
			switch line := sc.Text(); {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "ack "):
				if _, err := fmt.Sscanf(line, "ack %d %d", &g, &n); err != nil || g < 0 || g > kvCrashBatchG || n != acked[g] {
					bad = fmt.Errorf("bad line %q", line)
					continue
				}
				acked[g]++
			default:
				bad = fmt.Errorf("child: %q", line)
			}
		}
		scanned <- bad
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-exited:
		<-scanned
		return acked, fmt.Errorf("child exited before it was ready: %v\n%s", err, out.String())
	}
	time.Sleep(delay) // the kill instant is what the loop randomizes
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err = <-exited
	if bad := <-scanned; bad != nil {
		return acked, bad
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		return acked, fmt.Errorf("child did not die of SIGKILL: %v\n%s", err, out.String())
	}
	return acked, nil
}

// TestKVCrashLoopChild is the child of TestKVCrashLoop: it writes until killed.
func TestKVCrashLoopChild(t *testing.T) {
	dir := os.Getenv(kvCrashChildEnv)
	if dir == "" {
		t.Skip("run by TestKVCrashLoop")
	}
	time.AfterFunc(time.Minute, func() { os.Exit(3) }) // a child the parent forgot
	cycle, err := strconv.Atoi(os.Getenv(kvCrashCycleEnv))
	if err != nil {
		t.Fatal(err)
	}
	report := os.NewFile(3, "acks")
	say := func(format string, args ...any) {
		if _, err := fmt.Fprintf(report, format+"\n", args...); err != nil {
			os.Exit(4)
		}
	}
	s, err := kv.Open(kvCrashOptions(dir))
	if err != nil {
		say("open failed: %v", err)
		os.Exit(5)
	}
	say("ready")
	for g := range kvCrashG {
		go func() {
			for n := 0; ; n++ {
				k, v := kvCrashOp(cycle, g, n)
				if err := s.Put([]byte(k), v); err != nil {
					say("err %d %d %s", g, n, strings.ReplaceAll(err.Error(), "\n", " "))
					return
				}
				say("ack %d %d", g, n)
			}
		}()
	}
	go func() {
		for n := 0; ; n++ {
			b := s.NewBatch()
			for j, v := range kvCrashBatch(cycle, n) {
				b.Put([]byte(kvCrashBatchKey(j)), v)
			}
			if err := s.Apply(b); err != nil {
				say("err %d %d %s", kvCrashBatchG, n, strings.ReplaceAll(err.Error(), "\n", " "))
				return
			}
			say("ack %d %d", kvCrashBatchG, n)
		}
	}()
	select {}
}
