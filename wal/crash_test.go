package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash test runs a child process (this test binary, re-executed with crashChildEnv set)
// that appends to a WAL in SyncStrict mode and prints every acknowledged append, and kills it
// with SIGKILL at a random moment. After each kill the parent reopens the WAL and checks that
// every acknowledged entry is there, in order, with no gap, no corruption and no partial
// batch. One directory is reused across cycles, so the log keeps growing through many
// segments and recoveries. WAL_CRASH_CYCLES sets the number of cycles (default 200).

const (
	crashChildEnv   = "WAL_CRASH_CHILD"
	crashDirEnv     = "WAL_CRASH_DIR"
	crashCycleEnv   = "WAL_CRASH_CYCLE"
	crashWorkersEnv = "WAL_CRASH_WORKERS"
	crashStream     = "crash"
	noID            = ^uint64(0)
)

func crashOptions(dir string) Options {
	o := DefaultOptions(dir)
	o.SyncMode = SyncStrict
	o.MaxEntriesPerSegment = 40
	o.MaxSegmentSize = 16 << 10
	o.Compression = CompressionLZ4
	o.MinCompressionSize = 64
	o.WriteBufferSize = 4 << 10 // large batches get written in several pieces
	return o
}

// crashToken identifies one entry written by the child.
type crashToken struct {
	cycle  uint32
	worker uint16
	n      uint32 // the worker's n-th commit unit in this cycle
	idx    uint16 // position in its batch
	count  uint16 // batch size (1 for a single Append)
	id     uint64 // the sequence number the child expected, or noID if unknown
}

const crashTokenLen = 4 + 2 + 4 + 2 + 2 + 8

// crashEntry returns the entry for tok: the token, then filler derived from it (sometimes
// long and compressible).
func crashEntry(tok crashToken) []byte {
	b := make([]byte, crashTokenLen, 256)
	binary.LittleEndian.PutUint32(b[0:], tok.cycle)
	binary.LittleEndian.PutUint16(b[4:], tok.worker)
	binary.LittleEndian.PutUint32(b[6:], tok.n)
	binary.LittleEndian.PutUint16(b[10:], tok.idx)
	binary.LittleEndian.PutUint16(b[12:], tok.count)
	binary.LittleEndian.PutUint64(b[14:], tok.id)
	h := fnv1a64(b)
	size := int(h % 300)
	if h%8 == 0 {
		size = 3000
	}
	for i := 0; i < size; i++ {
		b = append(b, byte('a'+(h>>(i%7*8)+uint64(i/64))%26))
	}
	return b
}

func parseCrashEntry(e []byte) (crashToken, bool) {
	if len(e) < crashTokenLen {
		return crashToken{}, false
	}
	tok := crashToken{
		cycle:  binary.LittleEndian.Uint32(e[0:]),
		worker: binary.LittleEndian.Uint16(e[4:]),
		n:      binary.LittleEndian.Uint32(e[6:]),
		idx:    binary.LittleEndian.Uint16(e[10:]),
		count:  binary.LittleEndian.Uint16(e[12:]),
		id:     binary.LittleEndian.Uint64(e[14:]),
	}
	return tok, bytes.Equal(e, crashEntry(tok))
}

// TestCrashChild is the child side; it does nothing unless crashChildEnv is set.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("child process of TestCrashRecovery")
	}
	cycle, _ := strconv.Atoi(os.Getenv(crashCycleEnv))
	workers, _ := strconv.Atoi(os.Getenv(crashWorkersEnv))
	w, err := Open(crashOptions(os.Getenv(crashDirEnv)))
	if err != nil {
		fmt.Printf("error open: %v\n", err)
		os.Exit(3)
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		os.Stdout.WriteString(fmt.Sprintf(format, args...)) // unbuffered: one write per line
	}
	say("ready\n")
	for g := 0; g < workers; g++ {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(cycle), uint64(g)))
			for n := uint32(0); ; n++ {
				count := 1
				if rng.IntN(3) == 0 {
					count = 2 + rng.IntN(8)
				}
				next := noID
				if workers == 1 {
					next = uint64(w.NextSeq(crashStream))
				}
				entries := make([][]byte, count)
				for i := range entries {
					id := noID
					if next != noID {
						id = next + uint64(i)
					}
					entries[i] = crashEntry(crashToken{uint32(cycle), uint16(g), n, uint16(i), uint16(count), id})
				}
				var start SeqNum
				if count == 1 {
					start, err = w.Append(crashStream, entries[0])
				} else {
					var r Range
					r, err = w.AppendBatch(crashStream, entries)
					start = r.Start
				}
				if err != nil {
					say("error append: %v\n", err)
					os.Exit(3)
				}
				say("ack %d %d %d %d\n", g, n, start, count)
			}
		}()
	}
	select {} // until killed
}

type crashAck struct {
	cycle, worker, n uint32
	start            SeqNum
	count            int
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	cycles := 200
	if v := os.Getenv("WAL_CRASH_CYCLES"); v != "" {
		cycles, _ = strconv.Atoi(v)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("WAL_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (WAL_CRASH_SEED replays the kill timing), %d cycles", seed, cycles)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	var acks []crashAck
	totalAcked, started, inChild := 0, time.Now(), time.Duration(0)
	for cycle := 0; cycle < cycles; cycle++ {
		workers := 1
		if cycle%2 == 1 {
			workers = 4
		}
		t0 := time.Now()
		got, err := runCrashChild(dir, cycle, workers, rng)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		inChild += time.Since(t0)
		acks = append(acks, got...)
		for _, a := range got {
			totalAcked += a.count
		}
		verifyCrashLog(t, dir, cycle, acks)
	}
	t.Logf("%d cycles, %d acknowledged entries, %v (%v running children)", cycles, totalAcked,
		time.Since(started), inChild)
}

// runCrashChild starts a child, kills it after a random delay, and returns its acks.
func runCrashChild(dir string, cycle, workers int, rng *rand.Rand) ([]crashAck, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", crashDirEnv+"="+dir,
		crashCycleEnv+"="+strconv.Itoa(cycle), crashWorkersEnv+"="+strconv.Itoa(workers))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var acks []crashAck
	var failure string
	handle := func(line string) {
		var a crashAck
		if _, err := fmt.Sscanf(line, "ack %d %d %d %d", &a.worker, &a.n, &a.start, &a.count); err == nil {
			a.cycle = uint32(cycle)
			acks = append(acks, a)
		} else if strings.HasPrefix(line, "error") {
			failure = line
		}
	}
	// Mostly kill while appending; sometimes during start-up and recovery.
	if rng.IntN(10) == 0 {
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
	} else {
		timeout := time.After(60 * time.Second)
	wait:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break wait
				}
				handle(line)
				if line == "ready" {
					break wait
				}
			case <-timeout:
				cmd.Process.Kill()
				cmd.Wait()
				return nil, fmt.Errorf("child not ready after 60s; stderr: %s", stderr.String())
			}
		}
		time.Sleep(time.Duration(rng.IntN(15000)) * time.Microsecond)
	}
	cmd.Process.Kill()
	for line := range lines {
		handle(line)
	}
	cmd.Wait()
	if failure != "" {
		return nil, fmt.Errorf("child failed: %s; stderr: %s", failure, stderr.String())
	}
	return acks, nil
}

// verifyCrashLog reopens the WAL and checks it against every ack so far.
func verifyCrashLog(t *testing.T, dir string, cycle int, acks []crashAck) {
	t.Helper()
	w, err := Open(crashOptions(dir))
	if err != nil {
		t.Fatalf("cycle %d: reopen: %v", cycle, err)
	}
	defer w.Close()
	var toks []crashToken
	if w.NextSeq(crashStream) > 0 {
		it, err := w.Iter(crashStream, 0)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		want := SeqNum(0)
		for it.Next() {
			if it.ID() != want {
				t.Fatalf("cycle %d: gap: entry %d follows %d", cycle, it.ID(), want-1)
			}
			tok, ok := parseCrashEntry(it.Entry())
			if !ok {
				t.Fatalf("cycle %d: entry %d has bad content", cycle, it.ID())
			}
			if tok.id != noID && tok.id != uint64(it.ID()) {
				t.Fatalf("cycle %d: entry %d was written as %d", cycle, it.ID(), tok.id)
			}
			toks = append(toks, tok)
			want++
		}
		if err := it.Err(); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		it.Close()
		if want != w.NextSeq(crashStream) {
			t.Fatalf("cycle %d: iterated %d entries, NextSeq %d", cycle, want, w.NextSeq(crashStream))
		}
	}
	// Batches are whole, and each worker's units appear in order.
	type wkey struct {
		cycle  uint32
		worker uint16
	}
	lastN := map[wkey]int64{}
	for i := 0; i < len(toks); {
		tok := toks[i]
		for j := 0; j < int(tok.count); j++ {
			if i+j >= len(toks) {
				t.Fatalf("cycle %d: batch at %d cut short: %d of %d entries", cycle, i, j, tok.count)
			}
			b := toks[i+j]
			if b.cycle != tok.cycle || b.worker != tok.worker || b.n != tok.n || int(b.idx) != j || b.count != tok.count {
				t.Fatalf("cycle %d: entry %d is %+v, expected part %d of batch %+v", cycle, i+j, b, j, tok)
			}
		}
		k := wkey{tok.cycle, tok.worker}
		if prev, ok := lastN[k]; ok && int64(tok.n) <= prev {
			t.Fatalf("cycle %d: worker %v unit %d after unit %d", cycle, k, tok.n, prev)
		}
		lastN[k] = int64(tok.n)
		i += int(tok.count)
	}
	// Every acknowledged unit is where the child was told it is.
	for _, a := range acks {
		for j := 0; j < a.count; j++ {
			id := int(a.start) + j
			if id >= len(toks) {
				t.Fatalf("cycle %d: acknowledged entry %d (cycle %d worker %d unit %d) lost; log has %d",
					cycle, id, a.cycle, a.worker, a.n, len(toks))
			}
			tok := toks[id]
			if tok.cycle != a.cycle || uint32(tok.worker) != a.worker || tok.n != a.n || int(tok.idx) != j {
				t.Fatalf("cycle %d: entry %d is %+v, acknowledged as cycle %d worker %d unit %d part %d",
					cycle, id, tok, a.cycle, a.worker, a.n, j)
			}
		}
	}
}
