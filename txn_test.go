package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

func txnGet(t *testing.T, x *isledb.Txn, key string) (string, bool) {
	t.Helper()
	v, ok, err := x.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("txn Get(%s): %v", key, err)
	}
	return string(v), ok
}

// TestTxnBasics: a transaction sees the writes acknowledged before it began (flushed or
// not) and its own, applies all its writes at Commit or none at Rollback, and conflicts
// as its isolation level says.
func TestTxnBasics(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, be testutil.Backend) {
		ctx := context.Background()
		store := be.Open(t)
		db := openTestDB(t, store)
		opts := isledb.DefaultWriterOptions()
		opts.FlushInterval = -1
		opts.WALDir = t.TempDir()
		w, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		put := func(k, v string) {
			t.Helper()
			if err := w.Put([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		put("flushed", "f1")
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		put("unflushed", "u1")
		put("gone", "g")
		if err := w.Delete([]byte("gone")); err != nil {
			t.Fatal(err)
		}

		// Read-your-writes and the writes before Begin, flushed or not.
		x, err := w.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		put("other", "o1") // after Begin; x never reads it
		if v, ok := txnGet(t, x, "flushed"); !ok || v != "f1" {
			t.Fatalf("flushed = %q, %v", v, ok)
		}
		if v, ok := txnGet(t, x, "unflushed"); !ok || v != "u1" {
			t.Fatalf("unflushed = %q, %v", v, ok)
		}
		if _, ok := txnGet(t, x, "gone"); ok {
			t.Fatal("a deleted key is visible")
		}
		if err := x.Put([]byte("flushed"), []byte("f2")); err != nil {
			t.Fatal(err)
		}
		if err := x.Put([]byte("mine"), []byte("m")); err != nil {
			t.Fatal(err)
		}
		if err := x.Delete([]byte("unflushed")); err != nil {
			t.Fatal(err)
		}
		if v, ok := txnGet(t, x, "flushed"); !ok || v != "f2" {
			t.Fatalf("own write = %q, %v", v, ok)
		}
		if _, ok := txnGet(t, x, "unflushed"); ok {
			t.Fatal("own delete not seen")
		}
		kvs, err := x.Scan(ctx, []byte("a"), []byte("n"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, kv := range kvs {
			got = append(got, string(kv.Key)+"="+string(kv.Value))
		}
		if fmt.Sprint(got) != "[flushed=f2 mine=m]" {
			t.Fatalf("scan [a, n] = %v, want [flushed=f2 mine=m]", got)
		}
		if err := x.Put(nil, []byte("v")); !errors.Is(err, isledb.ErrEmptyKey) {
			t.Fatalf("Put(nil) = %v", err)
		}
		// Nothing is visible before Commit.
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, store, map[string]string{"flushed": "f1", "unflushed": "u1"}, "mine")
		if err := x.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if x.CommitSeq() == 0 {
			t.Fatal("no commit seq")
		}
		if err := x.Put([]byte("late"), nil); !errors.Is(err, isledb.ErrTxnDone) {
			t.Fatalf("Put after Commit = %v", err)
		}
		if err := x.Rollback(); err != nil {
			t.Fatalf("Rollback after Commit = %v", err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, store, map[string]string{"flushed": "f2", "mine": "m", "other": "o1"}, "unflushed")

		// Rollback applies nothing.
		x, _ = w.Begin(ctx)
		_ = x.Put([]byte("rolled"), []byte("back"))
		if err := x.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := x.Commit(ctx); !errors.Is(err, isledb.ErrTxnDone) {
			t.Fatalf("Commit after Rollback = %v", err)
		}

		// Write-write conflict: the first committer wins, the second applies nothing.
		a, _ := w.Begin(ctx)
		b, _ := w.Begin(ctx)
		_ = a.Put([]byte("ww"), []byte("a"))
		_ = b.Put([]byte("ww"), []byte("b"))
		_ = b.Put([]byte("b-only"), []byte("b"))
		if err := a.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx); !errors.Is(err, isledb.ErrConflict) {
			t.Fatalf("second committer = %v, want ErrConflict", err)
		}
		// A read of a key written after Begin conflicts at once.
		c, _ := w.Begin(ctx)
		put("ww", "plain put")
		if _, _, err := c.Get(ctx, []byte("ww")); !errors.Is(err, isledb.ErrConflict) {
			t.Fatalf("Get of a key written after Begin = %v, want ErrConflict", err)
		}
		_ = c.Rollback()

		// Write skew: allowed under snapshot isolation, refused under Serializable.
		for _, ser := range []bool{false, true} {
			put("x", "0")
			put("y", "0")
			p, _ := w.BeginWithOptions(ctx, isledb.TxnOptions{Serializable: ser})
			q, _ := w.BeginWithOptions(ctx, isledb.TxnOptions{Serializable: ser})
			txnGet(t, p, "x")
			txnGet(t, q, "y")
			_ = p.Put([]byte("y"), []byte("p"))
			_ = q.Put([]byte("x"), []byte("q"))
			if err := p.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			err := q.Commit(ctx)
			switch {
			case !ser && err != nil:
				t.Fatalf("snapshot isolation refused a write skew: %v", err)
			case ser && !errors.Is(err, isledb.ErrConflict):
				t.Fatalf("Serializable allowed a write skew: %v", err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, store, map[string]string{"ww": "plain put", "x": "0", "y": "p"}, "b-only", "rolled")
	})
}

// TestTxnModel runs random concurrent serializable transactions (reads, scans, writes,
// deletes over a small key space, with flushes and a compaction going on) and checks the
// committed ones against a serial model: replayed one at a time in commit order, each read
// the values the model holds at its turn, and the database ends as the model does. A
// snapshot-isolation phase of read-modify-write increments checks that no update is lost.
// ISLEDB_TXN_SEED replays a seed.
func TestTxnModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("ISLEDB_TXN_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (ISLEDB_TXN_SEED replays it)", seed)
	ctx := context.Background()
	store := testutil.Backends(testutil.Core)[0].Open(t)
	db := openTestDB(t, store)
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.MemtableSize = 64 << 10
	wopts.MaxImmutableMemtables = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const keys, workers, perWorker = 12, 4, 150
	key := func(i int) string { return fmt.Sprintf("key-%02d", i) }

	type record struct {
		seq      uint64
		readOnly bool
		reads    map[string]string // "" absent
		writes   map[string]string // "" delete
	}
	var mu sync.Mutex
	var committed []record
	conflicts := 0
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for n := range perWorker {
				x, err := w.BeginWithOptions(ctx, isledb.TxnOptions{Serializable: true})
				if err != nil {
					t.Error(err)
					return
				}
				rec := record{reads: map[string]string{}, writes: map[string]string{}}
				err = func() error {
					for range 1 + rng.IntN(4) {
						runtime.Gosched() // let other transactions interleave
						switch op := rng.IntN(10); {
						case op < 4:
							k := key(rng.IntN(keys))
							v, ok, err := x.Get(ctx, []byte(k))
							if err != nil {
								return err
							}
							if _, own := rec.writes[k]; !own {
								if !ok {
									v = nil
								}
								rec.reads[k] = string(v)
							}
						case op < 5:
							lo := rng.IntN(keys)
							hi := min(keys-1, lo+rng.IntN(4))
							kvs, err := x.Scan(ctx, []byte(key(lo)), []byte(key(hi)))
							if err != nil {
								return err
							}
							got := map[string]string{}
							for _, kv := range kvs {
								got[string(kv.Key)] = string(kv.Value)
							}
							for i := lo; i <= hi; i++ {
								if _, own := rec.writes[key(i)]; !own {
									rec.reads[key(i)] = got[key(i)]
								}
							}
						case op < 9:
							k := key(rng.IntN(keys))
							v := fmt.Sprintf("g%d-n%d", g, n)
							if err := x.Put([]byte(k), []byte(v)); err != nil {
								return err
							}
							rec.writes[k] = v
						default:
							k := key(rng.IntN(keys))
							if err := x.Delete([]byte(k)); err != nil {
								return err
							}
							rec.writes[k] = ""
						}
					}
					return x.Commit(ctx)
				}()
				_ = x.Rollback()
				switch {
				case errors.Is(err, isledb.ErrConflict):
					mu.Lock()
					conflicts++
					mu.Unlock()
				case err != nil:
					t.Error(err)
					return
				default:
					rec.seq, rec.readOnly = x.CommitSeq(), len(rec.writes) == 0
					mu.Lock()
					committed = append(committed, rec)
					mu.Unlock()
				}
				if rng.IntN(20) == 0 {
					if err := w.Flush(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	// A compaction while transactions run.
	c, err := db.OpenCompactor(ctx, isledb.CompactorOptions{L0CompactionThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.RunCompaction(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Replay in commit order: a transaction that wrote nothing comes after the writes up
	// to the sequence number it saw.
	slices.SortFunc(committed, func(a, b record) int {
		if a.seq != b.seq {
			return int(a.seq - b.seq)
		}
		switch {
		case a.readOnly == b.readOnly:
			return 0
		case a.readOnly:
			return 1
		}
		return -1
	})
	model := map[string]string{}
	for i, rec := range committed {
		for k, v := range rec.reads {
			if model[k] != v {
				t.Fatalf("committed transaction %d (seq %d) read %s = %q, but in commit order it is %q", i, rec.seq, k, v, model[k])
			}
		}
		for k, v := range rec.writes {
			if v == "" {
				delete(model, k)
			} else {
				model[k] = v
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var absent []string
	for i := range keys {
		if _, ok := model[key(i)]; !ok {
			absent = append(absent, key(i))
		}
	}
	checkKeys(t, store, model, absent...)
	t.Logf("serializable: %d committed, %d conflicts", len(committed), conflicts)
	if len(committed) == 0 {
		t.Fatal("nothing committed")
	}

	// Snapshot isolation: concurrent read-modify-write increments lose no update.
	counters := make([]int, 3)
	var wg2 sync.WaitGroup
	for g := range workers {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(100+g)))
			for range 60 {
				i := rng.IntN(len(counters))
				k := []byte(fmt.Sprintf("counter-%d", i))
				x, err := w.Begin(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				v, _, err := x.Get(ctx, k)
				runtime.Gosched()
				if err == nil {
					n, _ := strconv.Atoi(string(v))
					_ = x.Put(k, []byte(strconv.Itoa(n+1)))
					err = x.Commit(ctx)
				}
				_ = x.Rollback()
				switch {
				case errors.Is(err, isledb.ErrConflict):
				case err != nil:
					t.Error(err)
					return
				default:
					mu.Lock()
					counters[i]++
					mu.Unlock()
				}
			}
		}()
	}
	wg2.Wait()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i, n := range counters {
		if n > 0 {
			want[fmt.Sprintf("counter-%d", i)] = strconv.Itoa(n)
		}
	}
	checkKeys(t, store, want)
	t.Logf("snapshot isolation: increments %v", counters)
}

// TestTxnAcrossPruning: the writer forgets recent writes once they are flushed and no open
// transaction needs them. A transaction open across thousands of writes and flushes still
// sees its snapshot and detects the writes made after it began; one begun after the pruning
// sees everything written before it, flushed or not.
func TestTxnAcrossPruning(t *testing.T) {
	ctx := context.Background()
	store := testutil.Backends(testutil.Core)[0].Open(t)
	db := openTestDB(t, store)
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.MemtableSize = 64 << 10
	wopts.MaxImmutableMemtables = 1024
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	putRange := func(from, to int, val string) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := w.Put(fmt.Appendf(nil, "k%05d", i), []byte(val)); err != nil {
				t.Fatal(err)
			}
		}
	}
	putRange(0, 100, "before")
	a, err := w.BeginWithOptions(ctx, isledb.TxnOptions{Serializable: true})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		putRange(100+round*1500, 100+(round+1)*1500, "after")
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok := txnGet(t, a, "k00050"); !ok || v != "before" {
		t.Fatalf("old txn: k00050 = %q, %v", v, ok)
	}
	if _, _, err := a.Get(ctx, []byte("k00200")); !errors.Is(err, isledb.ErrConflict) {
		t.Fatalf("old txn: a key written after Begin = %v, want ErrConflict", err)
	}
	if kvs, err := a.Scan(ctx, []byte("k00000"), []byte("k00099")); err != nil || len(kvs) != 100 {
		t.Fatalf("old txn: scan of untouched keys: %d, %v", len(kvs), err)
	}
	if _, err := a.Scan(ctx, []byte("k00090"), []byte("k00110")); !errors.Is(err, isledb.ErrConflict) {
		t.Fatalf("old txn: scan over keys written after Begin = %v, want ErrConflict", err)
	}
	_ = a.Put([]byte("k00001"), []byte("a"))
	if err := a.Commit(ctx); !errors.Is(err, isledb.ErrConflict) {
		t.Fatalf("old txn commit = %v, want ErrConflict (it scanned keys written after it began)", err)
	}
	// With no transaction open, more writes prune everything flushed.
	putRange(5000, 7000, "later")
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	putRange(7000, 7010, "unflushed")
	b, err := w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	for k, want := range map[string]string{"k00050": "before", "k00200": "after", "k06000": "later", "k07005": "unflushed"} {
		if v, ok := txnGet(t, b, k); !ok || v != want {
			t.Fatalf("new txn: %s = %q, %v; want %q", k, v, ok, want)
		}
	}
	if _, ok := txnGet(t, b, "k00001"); !ok {
		t.Fatal("new txn: k00001 missing")
	}
	if v, _ := txnGet(t, b, "k00001"); v != "before" {
		t.Fatalf("new txn: k00001 = %q: the conflicting commit was applied", v)
	}
}
