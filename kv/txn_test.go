package kv_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/kv"
)

func TestTxnConflict(t *testing.T) {
	s, _ := openTest(t, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutInt64([]byte("n"), 1))
	must(s.PutString([]byte("other"), "o"))

	// Read-your-writes, typed, and isolation from the store until Commit.
	x, err := s.Begin()
	must(err)
	if v, err := x.GetInt64([]byte("n")); err != nil || v != 1 {
		t.Fatalf("txn GetInt64 = %v, %v", v, err)
	}
	must(x.PutInt64([]byte("n"), 2))
	must(x.PutString([]byte("s"), "new"))
	must(x.Delete([]byte("other")))
	if v, err := x.GetInt64([]byte("n")); err != nil || v != 2 {
		t.Fatalf("txn GetInt64 after its Put = %v, %v", v, err)
	}
	if _, err := x.GetString([]byte("n")); !errors.Is(err, kv.ErrTypeMismatch) {
		t.Fatalf("txn GetString of an int64: %v", err)
	}
	if _, err := x.Get([]byte("other")); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatalf("txn Get of its delete: %v", err)
	}
	got := scanAll(t, func(fn func([]byte, kv.Value) bool) error { return x.ScanRange(nil, nil, fn) })
	if !slices.Equal(got, []string{"n=int64:2", `s=string:"new"`}) {
		t.Fatalf("txn scan: %v", got)
	}
	if v, err := s.GetInt64([]byte("n")); err != nil || v != 1 {
		t.Fatalf("store before Commit: %v, %v", v, err)
	}
	must(x.Commit())
	if x.CommitSeq() == 0 {
		t.Fatal("CommitSeq 0 after Commit")
	}
	if v, err := s.GetInt64([]byte("n")); err != nil || v != 2 {
		t.Fatalf("store after Commit: %v, %v", v, err)
	}
	if _, err := s.Get([]byte("other")); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatalf("store after Commit: other: %v", err)
	}
	if err := x.Put([]byte("late"), kv.Int64Value(1)); !errors.Is(err, kv.ErrTxnDone) {
		t.Fatalf("Put after Commit: %v", err)
	}
	if err := x.Commit(); !errors.Is(err, kv.ErrTxnDone) {
		t.Fatalf("Commit twice: %v", err)
	}
	must(x.Rollback()) // a no-op after Commit

	// Two read-modify-writes of one key: the first committer wins.
	a, err := s.Begin()
	must(err)
	b, err := s.Begin()
	must(err)
	for _, x := range []*kv.Txn{a, b} {
		v, err := x.GetInt64([]byte("n"))
		must(err)
		must(x.PutInt64([]byte("n"), v+1))
	}
	must(a.Commit())
	err = b.Commit()
	if !errors.Is(err, kv.ErrConflict) || !errors.Is(err, isledb.ErrConflict) {
		t.Fatalf("second Commit: %v, want kv.ErrConflict wrapping isledb.ErrConflict", err)
	}
	if v, err := s.GetInt64([]byte("n")); err != nil || v != 3 {
		t.Fatalf("after the conflict: n = %v, %v; want 3 (one increment lost none applied twice)", v, err)
	}

	// A plain Put after Begin conflicts too; so does a read of the key it wrote.
	c, err := s.Begin()
	must(err)
	must(s.PutInt64([]byte("n"), 10))
	if _, err := c.Get([]byte("n")); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("txn Get of a key written after Begin: %v", err)
	}
	must(c.PutInt64([]byte("n"), 11))
	if err := c.Commit(); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("Commit over a plain Put: %v", err)
	}

	// Rollback applies nothing; Serializable checks the keys read.
	d, err := s.Begin()
	must(err)
	must(d.PutInt64([]byte("rolled"), 1))
	must(d.Rollback())
	if _, err := s.Get([]byte("rolled")); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatalf("after Rollback: %v", err)
	}
	e, err := s.BeginWithOptions(kv.TxnOptions{Serializable: true})
	must(err)
	_, err = e.GetString([]byte("s"))
	must(err)
	must(s.PutString([]byte("s"), "changed"))
	must(e.PutInt64([]byte("elsewhere"), 1))
	if err := e.Commit(); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("serializable Commit after its read key changed: %v", err)
	}

	// A closed store: calls fail with ErrStoreClosed, Rollback still works.
	f, err := s.Begin()
	must(err)
	must(s.Close())
	if _, err := f.Get([]byte("n")); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("txn Get after Close: %v", err)
	}
	if err := f.Commit(); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
	must(f.Rollback())
	if _, err := s.Begin(); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("Begin after Close: %v", err)
	}
}

// TestTxnModel runs random concurrent serializable kv transactions (typed Gets, scans,
// Puts, Deletes) with flushes and compactions in between, and checks the committed ones
// against a model that replays them one at a time in commit order: every value a
// committed transaction read is the model's at its place in the order, and the store ends
// as the model. Then snapshot-isolation increments: no update is lost.
func TestTxnModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("ISLEDB_TXN_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (ISLEDB_TXN_SEED replays it)", seed)
	s, _ := openTest(t, func(o *kv.Options) { o.L0CompactionTrigger = 2 })
	const keys, workers, perWorker = 12, 4, 120
	key := func(i int) string { return fmt.Sprintf("key-%02d", i) }
	type record struct {
		seq      uint64
		readOnly bool
		reads    map[string]int64 // -1 absent
		writes   map[string]int64 // -1 delete
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
				x, err := s.BeginWithOptions(kv.TxnOptions{Serializable: true})
				if err != nil {
					t.Error(err)
					return
				}
				rec := record{reads: map[string]int64{}, writes: map[string]int64{}}
				err = func() error {
					for range 1 + rng.IntN(4) {
						runtime.Gosched() // let other transactions interleave
						switch op := rng.IntN(10); {
						case op < 4:
							k := key(rng.IntN(keys))
							v, err := x.GetInt64([]byte(k))
							if errors.Is(err, kv.ErrKeyNotFound) {
								v, err = -1, nil
							}
							if err != nil {
								return err
							}
							if _, own := rec.writes[k]; !own {
								rec.reads[k] = v
							} else if rec.writes[k] != v {
								return fmt.Errorf("read-your-writes: %s = %d, the txn wrote %d", k, v, rec.writes[k])
							}
						case op < 5:
							lo := rng.IntN(keys)
							hi := min(keys, lo+1+rng.IntN(4))
							got := map[string]int64{}
							if err := x.ScanRange([]byte(key(lo)), []byte(key(hi)), func(k []byte, v kv.Value) bool {
								got[string(k)] = v.Int64
								return true
							}); err != nil {
								return err
							}
							for i := lo; i < hi; i++ {
								v, ok := got[key(i)]
								if !ok {
									v = -1
								}
								if _, own := rec.writes[key(i)]; !own {
									rec.reads[key(i)] = v
								}
							}
						case op < 9:
							k := key(rng.IntN(keys))
							v := int64(g*1000 + n)
							if err := x.PutInt64([]byte(k), v); err != nil {
								return err
							}
							rec.writes[k] = v
						default:
							k := key(rng.IntN(keys))
							if err := x.Delete([]byte(k)); err != nil {
								return err
							}
							rec.writes[k] = -1
						}
					}
					return x.Commit()
				}()
				_ = x.Rollback()
				switch {
				case errors.Is(err, kv.ErrConflict):
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
				err = nil
				switch rng.IntN(40) {
				case 0:
					err = s.Flush()
				case 1:
					err = s.Compact()
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Commit order; a transaction that wrote nothing comes after the writes up to the
	// sequence number it saw.
	slices.SortFunc(committed, func(a, b record) int {
		if a.seq != b.seq {
			if a.seq < b.seq {
				return -1
			}
			return 1
		}
		switch {
		case a.readOnly == b.readOnly:
			return 0
		case a.readOnly:
			return 1
		}
		return -1
	})
	model := map[string]int64{}
	for i, rec := range committed {
		for k, v := range rec.reads {
			want, ok := model[k]
			if !ok {
				want = -1
			}
			if v != want {
				t.Fatalf("committed transaction %d (seq %d) read %s = %d, but in commit order it is %d", i, rec.seq, k, v, want)
			}
		}
		for k, v := range rec.writes {
			if v == -1 {
				delete(model, k)
			} else {
				model[k] = v
			}
		}
	}
	for i := range keys {
		got, err := s.GetInt64([]byte(key(i)))
		if errors.Is(err, kv.ErrKeyNotFound) {
			got, err = -1, nil
		}
		want, ok := model[key(i)]
		if !ok {
			want = -1
		}
		if err != nil || got != want {
			t.Fatalf("store %s = %d, %v; model %d", key(i), got, err, want)
		}
	}
	t.Logf("serializable: %d committed, %d conflicts", len(committed), conflicts)
	if len(committed) == 0 || conflicts == 0 {
		t.Fatalf("%d committed, %d conflicts: the test exercised too little", len(committed), conflicts)
	}

	// Snapshot isolation: concurrent read-modify-write increments lose no update.
	counters := make([]int64, 3)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(100+g)))
			for range 60 {
				i := rng.IntN(len(counters))
				k := fmt.Appendf(nil, "counter-%d", i)
				x, err := s.Begin()
				if err != nil {
					t.Error(err)
					return
				}
				v, err := x.GetInt64(k)
				if errors.Is(err, kv.ErrKeyNotFound) {
					v, err = 0, nil
				}
				runtime.Gosched()
				if err == nil {
					_ = x.PutInt64(k, v+1)
					err = x.Commit()
				}
				_ = x.Rollback()
				switch {
				case errors.Is(err, kv.ErrConflict):
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
	wg.Wait()
	for i, n := range counters {
		got, err := s.GetInt64(fmt.Appendf(nil, "counter-%d", i))
		if errors.Is(err, kv.ErrKeyNotFound) {
			got, err = 0, nil
		}
		if err != nil || got != n {
			t.Fatalf("counter-%d = %d, %v; %d increments committed", i, got, err, n)
		}
	}
	t.Logf("snapshot isolation: increments %v", counters)
}

// TestTxnReaderInStoreDir: the transactions' reader keeps its caches in the store's
// directory (Dir/cache/txn) and reads SSTs by range like the store's reader, instead of a
// temporary directory outside it holding copies of the SSTs.
func TestTxnReaderInStoreDir(t *testing.T) {
	s, o := openTest(t, nil)
	if err := s.PutInt64([]byte("k"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	x, err := s.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Rollback()
	if v, err := x.GetInt64([]byte("k")); err != nil || v != 1 {
		t.Fatalf("txn GetInt64 = %v, %v", v, err)
	}
	txnCache := filepath.Join(o.Dir, "cache", "txn")
	if _, err := os.Stat(txnCache); err != nil {
		t.Fatalf("no transactions' cache in the store's directory: %v", err)
	}
	var copies []string
	_ = filepath.WalkDir(filepath.Join(txnCache, "sst"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			copies = append(copies, p)
		}
		return nil
	})
	if len(copies) > 0 {
		t.Fatalf("the transactions' reader copied SSTs into its cache: %v", copies)
	}
}
