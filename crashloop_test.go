package isledb_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
)

// The crash loop (scripts/crashloop.sh N): a child process runs a writer with the WAL on
// (strict sync) and a background compactor with GC and blob GC on, writing puts,
// overwrites, deletes and blob-sized values from several goroutines; the parent SIGKILLs
// it at a random instant, reopens a writer on the same WAL directory (which replays and
// flushes what the manifest lacks) and checks every key against a model of the
// acknowledged writes. Then it starts the next child on the same bucket and WAL.
//
// The workload is a pure function of (seed, cycle, goroutine, op number), so the parent
// knows every op without being told: the child only reports "ack g n" on a pipe after
// op n of goroutine g returned nil. Each goroutine owns its keys and runs one op at a
// time, so at most one op per goroutine is in flight when the kill lands: its key may
// hold either the value before it or its own.
const (
	crashChildEnv  = "ISLEDB_CRASHLOOP_CHILD"
	crashCyclesEnv = "ISLEDB_CRASHLOOP_CYCLES"
	crashSeedEnv   = "ISLEDB_CRASHLOOP_SEED"
	crashPrefix    = "db"

	crashGoroutines  = 4
	crashKeysPerG    = 64
	crashBlobPool    = 24   // blob contents shared by keys, so a flush reuses existing blobs
	crashBlobSize    = 2048 // BlobThreshold of the run; blob values are at least this long
	crashGrace       = 5 * time.Second
	crashChildMaxAge = time.Minute // a child the parent forgot exits by itself
)

// crashOpKind is what one op of the workload does.
type crashOpKind int

const (
	crashPut crashOpKind = iota
	crashPutBlob
	crashDelete
)

// crashOp is one write of the workload.
type crashOp struct {
	kind  crashOpKind
	key   string
	value []byte // nil for a delete
}

// crashOpFor returns op n of goroutine g in the given cycle. Goroutine g writes only the
// keys k<g>-<i>.
func crashOpFor(seed uint64, cycle, g, n int) crashOp {
	rng := rand.New(rand.NewPCG(seed, uint64(cycle)<<40|uint64(g)<<32|uint64(n)))
	op := crashOp{key: fmt.Sprintf("k%d-%03d", g, rng.IntN(crashKeysPerG))}
	switch p := rng.IntN(100); {
	case p < 15:
		op.kind = crashDelete
	case p < 25:
		op.kind = crashPutBlob
		if rng.IntN(2) == 0 {
			op.value = crashBlobValue(fmt.Sprintf("pool-%d", rng.IntN(crashBlobPool)), 0)
		} else {
			op.value = crashBlobValue(fmt.Sprintf("unique-%d-%d-%d", cycle, g, n), rng.IntN(2048))
		}
	default:
		op.kind = crashPut
		op.value = fmt.Appendf(nil, "v-%d-%d-%d-%s", cycle, g, n, strings.Repeat("x", rng.IntN(100)))
	}
	return op
}

// crashBlobValue is a value at least crashBlobSize long whose content is fixed by tag.
func crashBlobValue(tag string, extra int) []byte {
	v := make([]byte, 0, crashBlobSize+extra+len(tag))
	for len(v) < crashBlobSize+extra {
		v = append(v, tag...)
		v = append(v, '|')
	}
	return v
}

// crashValueStorage sets the blob threshold and the blob GC age the writer and the
// compactor must agree on (the writer refreshes a reused blob older than MinAge/2).
func crashValueStorage() config.ValueStorageConfig {
	vs := config.DefaultValueStorageConfig()
	vs.BlobThreshold = crashBlobSize
	vs.BlobGCOptions = config.BlobGCOptions{Enabled: true, Interval: 50 * time.Millisecond, MinAge: crashGrace}
	return vs
}

func crashWriterOptions(dir string) isledb.WriterOptions {
	o := isledb.DefaultWriterOptions()
	o.WALDir = filepath.Join(dir, "wal") // strict sync: the default WALSyncMode
	o.FlushInterval = 10 * time.Millisecond
	o.MemtableSize = 64 << 10
	o.MaxImmutableMemtables = 64
	o.ValueStorage = crashValueStorage()
	if os.Getenv(crashBucketWALEnv) == "1" {
		o.WALDir, o.BucketWAL = "", isledb.BucketWALEachWrite
	}
	return o
}

func crashCompactorOptions() isledb.CompactorOptions {
	o := isledb.DefaultCompactorOptions()
	o.L0CompactionThreshold = 3
	o.MinSources, o.MaxSources = 2, 4
	o.TargetSSTSize = 16 << 10
	o.BlockSize = 1 << 10
	o.CheckInterval = 20 * time.Millisecond
	o.GCGracePeriod = crashGrace
	o.GCInterval = 50 * time.Millisecond
	o.BlobGC = crashValueStorage().BlobGCOptions
	return o
}

// crashState is what the model allows a key to read as: absent (nil) or a value.
type crashState struct {
	present bool
	value   []byte
}

func (s crashState) String() string {
	if !s.present {
		return "absent"
	}
	if len(s.value) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", s.value[:40], len(s.value))
	}
	return fmt.Sprintf("%q", s.value)
}

func (s crashState) equal(o crashState) bool {
	return s.present == o.present && bytes.Equal(s.value, o.value)
}

func (op crashOp) result() crashState {
	if op.kind == crashDelete {
		return crashState{}
	}
	return crashState{present: true, value: op.value}
}

// crashChildReport is what the parent learned from one child.
type crashChildReport struct {
	ready    bool
	acked    [crashGoroutines]int // ops 0..acked[g]-1 of goroutine g were acknowledged
	failed   [crashGoroutines]bool
	errLines []string // ops that returned an error (the goroutine stopped there)
	bad      []string // malformed or out-of-order lines
}

// TestCrashLoop runs the crash loop: 20 cycles by default (5 with -short),
// ISLEDB_CRASHLOOP_CYCLES=N for N, ISLEDB_CRASHLOOP_SEED=S to replay the workload and kill
// instants of a seed (thread timing is not replayed).
func TestCrashLoop(t *testing.T) { runCrashLoop(t, "TestCrashLoop") }

// TestCrashLoopBucketWAL is the crash loop with the bucket WAL instead of the local one
// (WriterOptions.BucketWAL = BucketWALEachWrite, no WALDir: a write is acknowledged once
// its WAL object is in the bucket). The parent's recovering writer has no local state of
// the child at all, as a writer on another machine. Same environment variables.
func TestCrashLoopBucketWAL(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Setenv(crashBucketWALEnv, "1") // the children inherit it
	}
	runCrashLoop(t, "TestCrashLoopBucketWAL")
}

// crashBucketWALEnv set to 1 makes the crash loop's writers use the bucket WAL.
const crashBucketWALEnv = "ISLEDB_CRASHLOOP_BUCKETWAL"

func runCrashLoop(t *testing.T, name string) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("child")
	}
	cycles := 20
	if testing.Short() {
		cycles = 5
	}
	if s := os.Getenv(crashCyclesEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive count", crashCyclesEnv, s)
		}
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", crashSeedEnv, s)
		}
		seed = v
	}
	replay := fmt.Sprintf("%s=%d %s=%d go test -run '^%s$' -count=1 -v .", crashSeedEnv, seed, crashCyclesEnv, cycles, name)
	t.Logf("crashloop: seed=%d cycles=%d (replay: %s)", seed, cycles, replay)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 0x6372617368))
	model := map[string]crashState{}
	seen := crashBucketSeen{ssts: map[string]bool{}, blobs: map[string]bool{}}
	var (
		start                      = time.Now()
		totalAcked, keyChecks      int
		putErrors, earlyKills      int
		losses                     []string
		firstPutErr                string
		maxAckedCycle, sumAckCycle int
	)
	summary := func(done int) string {
		return fmt.Sprintf("crashloop: seed=%d cycles=%d acked_writes=%d key_checks=%d losses=%d put_errors=%d kills_before_ready=%d wall=%s per_cycle=%s",
			seed, done, totalAcked, keyChecks, len(losses), putErrors, earlyKills,
			time.Since(start).Round(time.Second), (time.Since(start) / time.Duration(max(done, 1))).Round(time.Millisecond))
	}
	for cycle := range cycles {
		// Kill at a random instant: mostly while writing (after the child is ready), one
		// time in ten counted from the start, which may land while it opens.
		early := rng.IntN(10) == 0
		delay := time.Duration(rng.Int64N(int64(500 * time.Millisecond)))
		rep, childErr := runCrashChild(exe, dir, seed, cycle, early, delay)
		if childErr != nil {
			t.Fatalf("cycle %d: %v\n%s\nreplay: %s", cycle, childErr, summary(cycle), replay)
		}
		if len(rep.bad) > 0 {
			t.Fatalf("cycle %d: bad report lines from the child: %q\nreplay: %s", cycle, rep.bad, replay)
		}
		if !rep.ready {
			earlyKills++
		}
		putErrors += len(rep.errLines)
		if firstPutErr == "" && len(rep.errLines) > 0 {
			firstPutErr = rep.errLines[0]
		}

		// The model: acknowledged ops set their key exactly; the one op per goroutine that
		// may have been in flight allows its key either the value before or its own.
		allowed := map[string][]crashState{}
		cycleAcked := 0
		for g := range crashGoroutines {
			for n := range rep.acked[g] {
				op := crashOpFor(seed, cycle, g, n)
				model[op.key] = op.result()
			}
			cycleAcked += rep.acked[g]
			if rep.ready {
				op := crashOpFor(seed, cycle, g, rep.acked[g])
				allowed[op.key] = []crashState{model[op.key], op.result()}
			}
		}
		totalAcked += cycleAcked
		sumAckCycle += cycleAcked
		maxAckedCycle = max(maxAckedCycle, cycleAcked)

		got, err := crashRecoverAndRead(dir, &seen)
		if err != nil {
			t.Fatalf("cycle %d: recovery after SIGKILL: %v\n%s\nreplay: %s", cycle, err, summary(cycle), replay)
		}
		keys := map[string]bool{}
		for k := range model {
			keys[k] = true
		}
		for k := range got {
			keys[k] = true
		}
		for k := range allowed {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			keyChecks++
			g := got[k]
			if g.err != nil {
				losses = append(losses, fmt.Sprintf("seed %d cycle %d key %s: expected %s, got read error: %v", seed, cycle, k, model[k], g.err))
				continue
			}
			want := []crashState{model[k]}
			if a, ok := allowed[k]; ok {
				want = a
			}
			ok := false
			for _, w := range want {
				ok = ok || w.equal(g.state)
			}
			if !ok {
				exp := make([]string, len(want))
				for i, w := range want {
					exp[i] = w.String()
				}
				losses = append(losses, fmt.Sprintf("seed %d cycle %d key %s: expected %s, got %s",
					seed, cycle, k, strings.Join(exp, " or "), g.state))
			}
			if !g.scanAgrees {
				losses = append(losses, fmt.Sprintf("seed %d cycle %d key %s: Get reads %s but Scan disagrees", seed, cycle, k, g.state))
			}
			model[k] = g.state // what the recovered writer flushed is now durable
		}
		if len(losses) > 0 {
			shown := losses[:min(len(losses), 50)]
			t.Fatalf("cycle %d: %d acknowledged writes lost or wrong after SIGKILL (first %d):\n%s\n%s\nreplay: %s",
				cycle, len(losses), len(shown), strings.Join(shown, "\n"), summary(cycle+1), replay)
		}
		if (cycle+1)%100 == 0 {
			t.Logf("%s", summary(cycle+1))
		}
	}
	if firstPutErr != "" {
		t.Logf("first failed (unacknowledged) write: %s", firstPutErr)
	}
	t.Logf("writes acknowledged per cycle: mean %.1f, max %d", float64(sumAckCycle)/float64(cycles), maxAckedCycle)
	t.Logf("background work seen: %s", seen.String())
	t.Logf("%s", summary(cycles))
}

// crashBucketSeen follows the bucket across cycles, to show that compaction, GC and blob
// GC ran in the children (it checks nothing).
type crashBucketSeen struct {
	ssts, blobs map[string]bool // every object seen in a listing
	sstNow      int
	blobNow     int
	runs        int // sorted runs in the last manifest
	maxRuns     int
}

func (b *crashBucketSeen) note(ctx context.Context, store *blobstore.Store, m *isledb.Manifest) error {
	ssts, err := store.ListSSTFiles(ctx)
	if err != nil {
		return err
	}
	blobs, err := store.ListBlobFiles(ctx)
	if err != nil {
		return err
	}
	for _, o := range ssts {
		b.ssts[o.Key] = true
	}
	for _, o := range blobs {
		b.blobs[o.Key] = true
	}
	b.sstNow, b.blobNow = len(ssts), len(blobs)
	b.runs = m.SortedRunCount()
	b.maxRuns = max(b.maxRuns, b.runs)
	return nil
}

func (b *crashBucketSeen) String() string {
	return fmt.Sprintf("SST objects seen %d, deleted since %d; blob objects seen %d, deleted since %d; sorted runs now %d (max %d)",
		len(b.ssts), len(b.ssts)-b.sstNow, len(b.blobs), len(b.blobs)-b.blobNow, b.runs, b.maxRuns)
}

// runCrashChild starts a child writer, SIGKILLs it after delay (counted from when it is
// ready, or from its start if early), and returns what it acknowledged.
func runCrashChild(exe, dir string, seed uint64, cycle int, early bool, delay time.Duration) (crashChildReport, error) {
	var rep crashChildReport
	pr, pw, err := os.Pipe()
	if err != nil {
		return rep, err
	}
	defer pr.Close()
	cmd := exec.Command(exe, "-test.run=^TestCrashLoopChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashSeedEnv+"="+strconv.FormatUint(seed, 10),
		"ISLEDB_CRASHLOOP_CYCLE="+strconv.Itoa(cycle))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.ExtraFiles = []*os.File{pw} // fd 3 in the child
	if err := cmd.Start(); err != nil {
		pw.Close()
		return rep, err
	}
	pw.Close()
	exited := make(chan error, 1)
	readyc := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			var g, n int
			switch {
			case line == "ready":
				rep.ready = true
				close(readyc)
			case strings.HasPrefix(line, "ack "):
				if _, err := fmt.Sscanf(line, "ack %d %d", &g, &n); err != nil || g < 0 || g >= crashGoroutines || n != rep.acked[g] || rep.failed[g] {
					rep.bad = append(rep.bad, line)
					continue
				}
				rep.acked[g]++
			case strings.HasPrefix(line, "err "):
				if _, err := fmt.Sscanf(line, "err %d %d", &g, &n); err != nil || g < 0 || g >= crashGoroutines || n != rep.acked[g] {
					rep.bad = append(rep.bad, line)
					continue
				}
				rep.failed[g] = true
				rep.errLines = append(rep.errLines, line)
			default:
				rep.bad = append(rep.bad, line)
			}
		}
	}()
	go func() { exited <- cmd.Wait() }()
	if !early {
		select {
		case <-readyc:
		case err := <-exited:
			<-scanned
			return rep, fmt.Errorf("child exited before it was ready: %v\n%s", err, stderr.String())
		}
	}
	timer := time.NewTimer(delay)
	select {
	case <-timer.C:
	case err := <-exited:
		<-scanned
		return rep, fmt.Errorf("child exited before it was killed: %v\n%s", err, stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err = <-exited
	<-scanned // the pipe is at EOF once the child is dead: every ack it wrote is read
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		return rep, fmt.Errorf("child did not die of SIGKILL: %v\n%s", err, stderr.String())
	}
	return rep, nil
}

// crashRead is one key as the recovered database reads it.
type crashRead struct {
	state      crashState
	err        error
	scanAgrees bool
}

// crashRecoverAndRead opens a writer on the WAL directory (replaying and flushing what the
// manifest lacks), closes it, then reads every key of the workload, and every key a full
// Scan returns, with Get; each read notes whether the Scan agrees.
func crashRecoverAndRead(dir string, seen *crashBucketSeen) (map[string]crashRead, error) {
	ctx := context.Background()
	store, err := blobstore.NewFile(ctx, filepath.Join(dir, "bucket"), crashPrefix)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	w, err := db.OpenWriter(ctx, crashWriterOptions(dir))
	if err != nil {
		return nil, fmt.Errorf("reopen writer on the WAL: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close recovered writer: %w", err)
	}
	cache, err := os.MkdirTemp(dir, "cache")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cache)
	r, err := isledb.OpenReader(ctx, store, isledb.ReaderOpenOptions{CacheDir: cache, ValidateSSTChecksum: true})
	if err != nil {
		return nil, fmt.Errorf("open reader: %w", err)
	}
	defer r.Close()
	if err := seen.note(ctx, store, r.Manifest()); err != nil {
		return nil, err
	}
	kvs, err := r.Scan(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	scanned := map[string][]byte{}
	for _, kv := range kvs {
		scanned[string(kv.Key)] = kv.Value
	}
	out := map[string]crashRead{}
	keys := map[string]bool{}
	for g := range crashGoroutines {
		for i := range crashKeysPerG {
			keys[fmt.Sprintf("k%d-%03d", g, i)] = true
		}
	}
	for k := range scanned {
		keys[k] = true // a key outside the workload's would be a phantom: the model has it absent
	}
	for k := range keys {
		v, ok, err := r.Get(ctx, []byte(k))
		if err != nil {
			out[k] = crashRead{err: err}
			continue
		}
		if !ok {
			v = nil
		}
		sv, sok := scanned[k]
		out[k] = crashRead{state: crashState{present: ok, value: v}, scanAgrees: sok == ok && bytes.Equal(sv, v)}
	}
	return out, nil
}

// TestCrashLoopChild is the child of TestCrashLoop: it writes until killed, reporting
// each acknowledged op on fd 3.
func TestCrashLoopChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("run by TestCrashLoop")
	}
	time.AfterFunc(crashChildMaxAge, func() { os.Exit(3) })
	seed, err := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	cycle, err := strconv.Atoi(os.Getenv("ISLEDB_CRASHLOOP_CYCLE"))
	if err != nil {
		t.Fatal(err)
	}
	report := os.NewFile(3, "acks")
	say := func(format string, args ...any) {
		// One write per line, shorter than PIPE_BUF: atomic on the pipe, whole or absent.
		if _, err := fmt.Fprintf(report, format+"\n", args...); err != nil {
			os.Exit(4) // the parent is gone
		}
	}
	ctx := context.Background()
	store, err := blobstore.NewFile(ctx, filepath.Join(dir, "bucket"), crashPrefix)
	if err != nil {
		t.Fatal(err)
	}
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.OpenCompactor(ctx, crashCompactorOptions())
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	w, err := db.OpenWriter(ctx, crashWriterOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	say("ready")
	for g := range crashGoroutines {
		go func() {
			for n := 0; ; n++ {
				op := crashOpFor(seed, cycle, g, n)
				var err error
				if op.kind == crashDelete {
					err = w.Delete([]byte(op.key))
				} else {
					err = w.Put([]byte(op.key), op.value)
				}
				if err != nil {
					msg := strings.ReplaceAll(err.Error(), "\n", " ")
					say("err %d %d %s", g, n, msg[:min(len(msg), 1000)])
					return
				}
				say("ack %d %d", g, n)
			}
		}()
	}
	select {} // until killed
}
