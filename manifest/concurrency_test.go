package manifest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// ack is an acknowledged append or claim: its position, the hash of its entry, and the
// entry (for claims, rebuilt from the token).
type ack struct {
	seq   Seq
	hash  uint64
	entry *ManifestLogEntry
}

// workload runs ops random operations on s as owner: claims of both roles, SST adds as
// writer, removals and compactions as compactor. It returns what was acknowledged. Errors
// other than the expected outcomes of contention fail the test.
func workload(t testing.TB, s *Store, rng *rand.Rand, owner string, ops int) []ack {
	var acks []ack
	var writer, compactor bool
	record := func(e *ManifestLogEntry) {
		// Entries re-encode to the very bytes that were stored.
		acks = append(acks, ack{seq: e.Seq, hash: entryHash(encodeEntry(e)), entry: e})
	}
	claim := func(role Role) {
		e, err := s.claim(ctx, role, owner) // ClaimWriter/ClaimCompactor, with the entry
		if err != nil && testing.Verbose() {
			t.Logf("%s: claim %s: %v", owner, role, err)
		}
		switch {
		case err == nil:
			record(e)
			if role == RoleWriter {
				writer = true
			} else {
				compactor = true
			}
		case errors.Is(err, ErrFenceConflict):
		default:
			t.Errorf("%s: claim %s: %v", owner, role, err)
		}
	}
	for i := range ops {
		var e *ManifestLogEntry
		var err error
		role := RoleWriter
		switch p := rng.IntN(100); {
		case p < 6:
			claim(RoleWriter)
			continue
		case p < 10:
			claim(RoleCompactor)
			continue
		case writer && p < 70:
			e, err = s.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprintf("%s-%d", owner, i), uint64(i)))
		case compactor:
			role = RoleCompactor
			cur := s.Current()
			if cur == nil || cur.L0SSTCount() == 0 {
				continue
			}
			if p < 85 {
				victim := cur.L0SSTs[rng.IntN(cur.L0SSTCount())].ID
				e, err = s.AppendRemoveSSTablesWithFence(ctx, []string{victim})
			} else {
				oldest := cur.L0SSTs[cur.L0SSTCount()-1].ID
				e, err = s.AppendCompactionWithFence(ctx, CompactionLogPayload{
					RemoveL0SSTs: []string{oldest},
					OutputRun: &SortedRun{ID: cur.NextSortedRunID,
						SSTs: []SSTMeta{runSST(fmt.Sprintf("%s-c%d", owner, i), i, i)}},
				})
			}
		default:
			if !writer {
				claim(RoleWriter)
			}
			continue
		}
		if err != nil && testing.Verbose() {
			t.Logf("%s: op %d: %v", owner, i, err)
		}
		switch {
		case err == nil:
			record(e)
		case errors.Is(err, ErrFenced):
			if role == RoleWriter {
				writer = false
			} else {
				compactor = false
			}
		case errors.Is(err, ErrInvalidEdit): // the view it planned on was stale
		default:
			t.Errorf("%s: op %d: %v", owner, i, err)
		}
	}
	return acks
}

// model is an independent, plain implementation of the manifest's rules over SST ids.
type model struct {
	nextEpoch         uint64
	writer, compactor *FenceToken
	l0                []string // newest first
	runs              []modelRun
}

type modelRun struct {
	id   uint32
	ssts []string
}

func newModel() *model { return &model{nextEpoch: 1} }

func (m *model) apply(t testing.TB, e *ManifestLogEntry) {
	t.Helper()
	switch e.Kind {
	case EntryClaimFence:
		if e.Epoch != m.nextEpoch {
			t.Fatalf("model: acknowledged claim %s with epoch %d, next is %d", e, e.Epoch, m.nextEpoch)
		}
		m.nextEpoch++
		f := e.Fence()
		if e.Role == RoleWriter {
			m.writer = f
		} else {
			m.compactor = f
		}
		return
	}
	cur := m.writer
	if e.Role == RoleCompactor {
		cur = m.compactor
	}
	if cur == nil || cur.Epoch != e.Epoch {
		t.Fatalf("model: acknowledged entry %s made under a superseded fence %v", e, fenceStr(cur))
	}
	drop := func(ids ...string) {
		for _, id := range ids {
			n := len(m.l0)
			m.l0 = slices.DeleteFunc(m.l0, func(s string) bool { return s == id })
			found := n != len(m.l0)
			for r := range m.runs {
				n := len(m.runs[r].ssts)
				m.runs[r].ssts = slices.DeleteFunc(m.runs[r].ssts, func(s string) bool { return s == id })
				found = found || n != len(m.runs[r].ssts)
			}
			if !found {
				t.Fatalf("model: acknowledged entry %s removes missing sst %s", e, id)
			}
		}
		m.runs = slices.DeleteFunc(m.runs, func(r modelRun) bool { return len(r.ssts) == 0 })
	}
	switch e.Kind {
	case EntryAddSST:
		m.l0 = append([]string{e.SST.ID}, m.l0...)
	case EntryRemoveSSTs:
		drop(e.RemovedSSTs...)
	case EntryCompaction:
		c := e.Compaction
		drop(c.RemoveL0SSTs...)
		drop(c.DeleteSSTs...)
		if len(c.RemoveSortedRuns) > 0 {
			t.Fatal("model: run merges not modelled")
		}
		if c.OutputRun != nil {
			var ids []string
			for _, s := range c.OutputRun.SSTs {
				ids = append(ids, s.ID)
			}
			m.runs = append([]modelRun{{c.OutputRun.ID, ids}}, m.runs...)
		}
	}
}

// check compares a replayed manifest with the model.
func (m *model) check(t testing.TB, got *Manifest) {
	t.Helper()
	var runs []modelRun
	for _, r := range got.SortedRuns {
		var ids []string
		for _, s := range r.SSTs {
			ids = append(ids, s.ID)
		}
		runs = append(runs, modelRun{r.ID, ids})
	}
	if got.NextEpoch != m.nextEpoch || !equalFence(got.WriterFence, m.writer) ||
		!equalFence(got.CompactorFence, m.compactor) || !slices.Equal(l0IDs(got), m.l0) ||
		!slices.EqualFunc(runs, m.runs, func(a, b modelRun) bool { return a.id == b.id && slices.Equal(a.ssts, b.ssts) }) {
		t.Fatalf("replay differs from the model of acknowledged appends:\nreplay: %s\nmodel:  epoch %d writer %s compactor %s L0 %v runs %v",
			describe(got), m.nextEpoch, fenceStr(m.writer), fenceStr(m.compactor), m.l0, m.runs)
	}
}

// checkAcks verifies that acknowledged positions are unique and contiguous from 1 (no gap,
// nothing lost, nothing unacknowledged in between), applies them to a model in order, and
// compares the model with a fresh replay.
func checkAcks(t testing.TB, acks []ack, replay *Manifest) {
	t.Helper()
	slices.SortFunc(acks, func(a, b ack) int { return int(a.seq) - int(b.seq) })
	for i, a := range acks {
		if a.seq != Seq(i+1) {
			t.Fatalf("acknowledged positions are not 1..%d: position %d holds seq %d", len(acks), i+1, a.seq)
		}
	}
	if err := replay.Check(); err != nil {
		t.Fatal(err)
	}
	if replay.LogSeq != uint64(len(acks)) {
		t.Fatalf("replay at %d, %d entries acknowledged", replay.LogSeq, len(acks))
	}
	if len(acks) > 0 && replay.chain != acks[len(acks)-1].hash {
		t.Fatalf("the last entry is not the acknowledged one")
	}
	md := newModel()
	for _, a := range acks {
		md.apply(t, a.entry)
	}
	md.check(t, replay)
}

// checkLog reads every stored entry and checks that the log is exactly the acknowledged
// entries from first on, with no gap.
func checkLog(t testing.TB, st Storage, acks []ack, first Seq) {
	t.Helper()
	seqs, err := st.ListLogEntries(ctx, ^Seq(0))
	if err != nil {
		t.Fatal(err)
	}
	last := Seq(len(acks))
	if len(seqs) == 0 || seqs[0] != first || seqs[len(seqs)-1] != last || len(seqs) != int(last-first+1) {
		t.Fatalf("log holds %d entries %v..%v, want exactly %d..%d", len(seqs), seqs[:min(len(seqs), 1)], seqs[max(len(seqs)-1, 0):], first, last)
	}
	byseq := map[Seq]uint64{}
	for _, a := range acks {
		byseq[a.seq] = a.hash
	}
	for _, seq := range seqs {
		data, err := st.ReadLogEntry(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if entryHash(data) != byseq[seq] {
			t.Fatalf("entry %d is not the acknowledged one", seq)
		}
	}
}

// TestConcurrentAppends runs 8 goroutines, each with its own Store on one bucket, doing
// random claims and appends; they fence each other constantly. Afterwards the log holds
// exactly the acknowledged entries, without a gap, and a replay equals the model built
// from them. With snapshots and immediate pruning in the mix, too.
func TestConcurrentAppends(t *testing.T) {
	for _, snap := range []bool{false, true} {
		t.Run(fmt.Sprintf("snapshots=%v", snap), func(t *testing.T) {
			testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
				k := newBucket(t, b)
				opts := StoreOptions{SnapshotEvery: -1}
				if snap {
					opts = fastOpts(7)
				}
				ops := 60
				switch {
				case b.Server:
					ops = 20
				case b.Name == "file":
					ops = 35
				}
				const goroutines = 8
				var mu sync.Mutex
				var acks []ack
				var wg sync.WaitGroup
				rec := &recordingStorage{}
				for g := range goroutines {
					s, err := NewStoreWithOptions(&recordingStorage{Storage: NewBlobStorage(k.handle()), shared: rec}, opts)
					if err != nil {
						t.Fatal(err)
					}
					wg.Go(func() {
						a := workload(t, s, newRand(uint64(g)), fmt.Sprintf("g%d", g), ops)
						mu.Lock()
						acks = append(acks, a...)
						mu.Unlock()
					})
				}
				wg.Wait()
				if t.Failed() {
					return
				}
				r, _ := k.store(opts)
				m, err := r.Replay(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer func() {
					if t.Failed() {
						rec.dump(t)
					}
				}()
				checkAcks(t, acks, m)
				first := Seq(1)
				if snap {
					// Zombies may have re-created pruned slots below the newest snapshot
					// (their appends were refused); a prune clears them.
					if _, err := r.Prune(ctx); err != nil {
						t.Fatal(err)
					}
					snaps, err := r.Storage().ListSnapshots(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if len(snaps) > 0 {
						first = newestSnapshot(snaps)
					}
				}
				checkLog(t, r.Storage(), acks, first)
				t.Logf("%d entries acknowledged", len(acks))
			})
		})
	}
}

// TestSharedStoreConcurrency has 8 goroutines share one Store (one writer), appending at
// once: the Store serializes them, and every append lands exactly once.
func TestSharedStoreConcurrency(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		s, _ := k.store(fastOpts(10))
		if _, err := s.ClaimWriter(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		per := 15
		if b.Server {
			per = 5
		}
		var wg sync.WaitGroup
		seen := make([]sync.Map, 1)
		for g := range 8 {
			wg.Go(func() {
				for i := range per {
					e, err := s.AppendAddSSTableWithFence(ctx, testSST(fmt.Sprintf("g%d-%d", g, i), uint64(i)))
					if err != nil {
						t.Error(err)
						return
					}
					if _, dup := seen[0].LoadOrStore(e.Seq, e.SST.ID); dup {
						t.Errorf("position %d acknowledged twice", e.Seq)
					}
				}
			})
		}
		wg.Wait()
		r, _ := k.store(StoreOptions{})
		m, err := r.Replay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.L0SSTCount() != 8*per || m.LogSeq != uint64(8*per+1) {
			t.Fatalf("replay: %d SSTs at %d", m.L0SSTCount(), m.LogSeq)
		}
		mustEqual(t, "shared", m, s.Current())
	})
}

const (
	childDirEnv = "ISLEDB_MANIFEST_CHILD_DIR"
	childIDEnv  = "ISLEDB_MANIFEST_CHILD_ID"
)

// TestTwoProcesses runs the workload in two processes (4 goroutines each) appending to
// one directory: the log has no gap, every entry was acknowledged by exactly one process,
// and a replay equals the model built from the acknowledged entries.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv(childDirEnv) != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]bytes.Buffer, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		cmd := exec.Command(exe, "-test.run=^TestProcessChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childIDEnv+"="+strconv.Itoa(i))
		cmd.Stdout = &outs[i]
		cmd.Stderr = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	bs, err := blobstore.NewFile(ctx, dir, "shared")
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	st := NewBlobStorage(bs)
	var acks []ack
	for i := range 2 {
		sc := bufio.NewScanner(&outs[i])
		for sc.Scan() {
			var seq, hash uint64
			if n, _ := fmt.Sscanf(sc.Text(), "ack %d %x", &seq, &hash); n != 2 {
				continue
			}
			data, err := st.ReadLogEntry(ctx, Seq(seq))
			if err != nil {
				t.Fatalf("acknowledged entry %d: %v", seq, err)
			}
			if entryHash(data) != hash {
				t.Fatalf("entry %d is not the one process %d acknowledged", seq, i)
			}
			e, err := DecodeLogEntry(LogEntryKey(Seq(seq)), data)
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, ack{seq: Seq(seq), hash: hash, entry: e})
		}
	}
	m, err := NewStore(bs).Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkAcks(t, acks, m)
	checkLog(t, st, acks, 1)
	t.Logf("%d entries acknowledged by two processes", len(acks))
}

// TestProcessChild is the child side of TestTwoProcesses.
func TestProcessChild(t *testing.T) {
	dir, id := os.Getenv(childDirEnv), os.Getenv(childIDEnv)
	if dir == "" {
		t.Skip("run by TestTwoProcesses")
	}
	bs, err := blobstore.NewFile(ctx, dir, "shared")
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	var wg sync.WaitGroup
	for g := range 4 {
		s, err := NewStoreWithOptions(NewBlobStorage(bs), StoreOptions{SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			n, _ := strconv.Atoi(id)
			acks := workload(t, s, newRand(uint64(100*n+g)), fmt.Sprintf("p%s-g%d", id, g), 50)
			mu.Lock()
			for _, a := range acks {
				fmt.Fprintf(&out, "ack %d %x\n", a.seq, a.hash)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Print(out.String())
}

// recordingStorage logs every create that landed, for failure reports.
type recordingStorage struct {
	Storage
	shared *recordingStorage
	mu     sync.Mutex
	log    []string
}

func (r *recordingStorage) CreateLogEntry(ctx context.Context, seq Seq, data []byte) error {
	err := r.Storage.CreateLogEntry(ctx, seq, data)
	e, _ := DecodeLogEntry("", data)
	r.shared.mu.Lock()
	r.shared.log = append(r.shared.log, fmt.Sprintf("create %s hash %016x prev %016x: %v", e, entryHash(data), e.PrevHash, err))
	r.shared.mu.Unlock()
	return err
}

func (r *recordingStorage) CreateSnapshot(ctx context.Context, seq Seq, data []byte) error {
	err := r.Storage.CreateSnapshot(ctx, seq, data)
	r.shared.mu.Lock()
	r.shared.log = append(r.shared.log, fmt.Sprintf("snapshot %d: %v", seq, err))
	r.shared.mu.Unlock()
	return err
}

func (r *recordingStorage) DeleteLogEntries(ctx context.Context, seqs []Seq) error {
	err := r.Storage.DeleteLogEntries(ctx, seqs)
	r.shared.mu.Lock()
	r.shared.log = append(r.shared.log, fmt.Sprintf("delete entries %v: %v", seqs, err))
	r.shared.mu.Unlock()
	return err
}

func (r *recordingStorage) dump(t testing.TB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.log {
		t.Log(l)
	}
}
