package kv_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/isledb/isledb/kv"
)

func TestBatchAPI(t *testing.T) {
	s, _ := openTest(t, nil)
	if err := s.PutString([]byte("gone"), "x"); err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch()
	b.PutInt64([]byte("i"), 7)
	b.PutFloat64([]byte("f"), 1.5)
	b.PutBool([]byte("b"), true)
	b.PutString([]byte("s"), "str")
	buf := []byte("bytes")
	b.PutBytes([]byte("y"), buf)
	buf[0] = 'X' // the batch copied it
	b.Put([]byte("gone"), kv.TombstoneValue())
	b.PutInt64([]byte("i"), 8) // a later write of a key wins
	if b.Len() != 7 {
		t.Fatalf("Len %d, want 7", b.Len())
	}
	if v, err := s.GetString([]byte("gone")); err != nil || v != "x" {
		t.Fatalf("before Apply: %q, %v", v, err)
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetInt64([]byte("i")); err != nil || v != 8 {
		t.Fatalf("i = %v, %v", v, err)
	}
	if v, err := s.GetBytes([]byte("y")); err != nil || string(v) != "bytes" {
		t.Fatalf("y = %q, %v", v, err)
	}
	if _, err := s.Get([]byte("gone")); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatalf("gone: %v", err)
	}
	if _, err := s.GetString([]byte("i")); !errors.Is(err, kv.ErrTypeMismatch) {
		t.Fatalf("GetString of an int64: %v", err)
	}
	st := s.Stats()
	if st.WriteOperations != 6+1 || st.DeleteOperations != 1 {
		t.Fatalf("stats: %d writes, %d deletes", st.WriteOperations, st.DeleteOperations)
	}

	// Refused writes: nothing of the batch is applied.
	for name, add := range map[string]func(*kv.Batch){
		"empty key":     func(b *kv.Batch) { b.PutInt64(nil, 1) },
		"empty delete":  func(b *kv.Batch) { b.Delete(nil) },
		"invalid value": func(b *kv.Batch) { b.Put([]byte("k"), kv.Value{Type: 99}) },
	} {
		b := s.NewBatch()
		b.PutInt64([]byte("refused"), 1)
		add(b)
		b.PutInt64([]byte("refused2"), 2)
		err := s.Apply(b)
		want := kv.ErrEmptyKey
		if name == "invalid value" {
			want = kv.ErrInvalidValue
		}
		if !errors.Is(err, want) {
			t.Fatalf("%s: Apply: %v, want %v", name, err, want)
		}
		for _, k := range []string{"refused", "refused2"} {
			if _, err := s.Get([]byte(k)); !errors.Is(err, kv.ErrKeyNotFound) {
				t.Fatalf("%s: %s after a refused batch: %v", name, k, err)
			}
		}
		b.Reset()
		b.PutInt64([]byte("after-reset"), 3)
		if err := s.Apply(b); err != nil {
			t.Fatalf("%s: Apply after Reset: %v", name, err)
		}
	}
	if err := s.Apply(s.NewBatch()); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if err := s.Apply(nil); err != nil {
		t.Fatalf("nil batch: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b = s.NewBatch()
	b.PutInt64([]byte("late"), 1)
	if err := s.Apply(b); !errors.Is(err, kv.ErrStoreClosed) {
		t.Fatalf("Apply after Close: %v", err)
	}
}

// TestBatchAtomicVisibility: batches set every key of a group to one generation; readers
// (snapshots, scans) running meanwhile, across flushes, compactions and a batch larger
// than the memtable, always see one generation for the whole group, and so does the store
// after a reopen.
func TestBatchAtomicVisibility(t *testing.T) {
	s, o := openTest(t, func(o *kv.Options) { o.L0CompactionTrigger = 2 })
	const group, gens = 40, 60
	key := func(i int) []byte { return fmt.Appendf(nil, "g/%03d", i) }
	apply := func(gen int) error {
		b := s.NewBatch()
		for i := range group {
			if (i+gen)%7 == 0 {
				b.Delete(key(i)) // absent keys are part of the generation too
				continue
			}
			// Every 10th generation is larger than the memtable (64 KiB).
			pad := 16
			if gen%10 == 9 {
				pad = 4 << 10
			}
			b.PutString(key(i), fmt.Sprintf("%04d:%0*d", gen, pad, i))
		}
		return s.Apply(b)
	}
	// check returns the generation a full view of the group shows, or an error if it
	// mixes two.
	check := func(view map[string]string) (int, error) {
		gen := -1
		for i := range group {
			v, ok := view[string(key(i))]
			if !ok {
				continue // checked below, once the generation is known
			}
			var g int
			if _, err := fmt.Sscanf(v, "%04d:", &g); err != nil {
				return 0, fmt.Errorf("key %s = %q", key(i), v)
			}
			if gen != -1 && g != gen {
				return 0, fmt.Errorf("key %s holds generation %d, an earlier key %d", key(i), g, gen)
			}
			gen = g
		}
		if gen == -1 {
			return -1, nil
		}
		for i := range group { // the absent keys are exactly the ones gen deletes
			_, ok := view[string(key(i))]
			if ok == ((i+gen)%7 == 0) {
				return 0, fmt.Errorf("generation %d: key %s present %v", gen, key(i), ok)
			}
		}
		return gen, nil
	}
	collect := func(scan func(fn func([]byte, kv.Value) bool) error) (map[string]string, error) {
		view := map[string]string{}
		err := scan(func(k []byte, v kv.Value) bool {
			view[string(k)] = string(v.Bytes)
			return true
		})
		return view, err
	}
	if err := apply(0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	errc := make(chan error, 4)
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for n := 0; ; n++ {
				select {
				case <-done:
					if n == 0 {
						errc <- errors.New("reader never ran")
					}
					return
				default:
				}
				var view map[string]string
				var err error
				if r == 0 {
					var sn *kv.Snapshot
					if sn, err = s.Snapshot(); err == nil {
						view, err = collect(func(fn func([]byte, kv.Value) bool) error { return sn.ScanPrefix([]byte("g/"), fn) })
						// Gets of the snapshot agree with its scan.
						for i := 0; err == nil && i < group; i += 5 {
							v, gerr := sn.GetString(key(i))
							want, ok := view[string(key(i))]
							if (gerr == nil) != ok || v != want {
								err = fmt.Errorf("snapshot Get %s = %q, %v; its scan %q", key(i), v, gerr, want)
							}
						}
						_ = sn.Close()
					}
				} else {
					view, err = collect(func(fn func([]byte, kv.Value) bool) error { return s.ScanRange([]byte("g/"), []byte("g0"), fn) })
				}
				if err == nil {
					var gen int
					if gen, err = check(view); err == nil && gen < last {
						err = fmt.Errorf("generation %d after %d", gen, last)
					}
					last = max(last, gen)
				}
				if err != nil {
					errc <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
			}
		}()
	}
	for gen := 1; gen < gens; gen++ {
		if err := apply(gen); err != nil {
			t.Fatal(err)
		}
		switch gen % 8 {
		case 3:
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		case 6:
			if err := s.Compact(); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := kv.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	view, err := collect(func(fn func([]byte, kv.Value) bool) error { return s2.ScanPrefix([]byte("g/"), fn) })
	if err != nil {
		t.Fatal(err)
	}
	if gen, err := check(view); err != nil || gen != gens-1 {
		t.Fatalf("after reopen: generation %d, %v; want %d", gen, err, gens-1)
	}
}
