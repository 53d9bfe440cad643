package wal

import (
	"sync"
	"testing"
)

func TestSyncModes(t *testing.T) {
	for _, c := range []struct {
		mode                       SyncMode
		afterAppends, afterBatches uint64 // fsyncs after 5 appends, then after 2 batches more
	}{
		{SyncStrict, 5, 7},
		{SyncBatchOnly, 0, 2},
		{SyncAsync, 0, 0},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			o := testOptions(t)
			o.SyncMode = c.mode
			w := mustOpen(t, o)
			mustAppendN(t, w, "s", 0, 5)
			if got := w.Metrics().Syncs; got != c.afterAppends {
				t.Fatalf("%d fsyncs after 5 appends, want %d", got, c.afterAppends)
			}
			for i := 0; i < 2; i++ {
				tx := w.Writer("s")
				tx.Add(entryFor(SeqNum(5 + 2*i)))
				tx.Add(entryFor(SeqNum(6 + 2*i)))
				if _, err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.Metrics().Syncs; got != c.afterBatches {
				t.Fatalf("%d fsyncs after batches, want %d", got, c.afterBatches)
			}
			// Reads see buffered entries in every mode.
			checkEntries(t, w, "s", 0, 9)
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			s, _ := w.lookup("s")
			if d := SeqNum(s.durableSeq.Load()); d != 9 {
				t.Fatalf("after Sync durable up to %d, want 9", d)
			}
			mustClose(t, w)
			w = mustOpen(t, o)
			checkEntries(t, w, "s", 0, 9)
			mustClose(t, w)
		})
	}
}

func TestGroupCommit(t *testing.T) {
	o := testOptions(t)
	o.SyncMode = SyncStrict
	w := mustOpen(t, o)
	defer mustClose(t, w)
	const workers, per = 8, 25
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				id, err := w.Append("s", []byte{byte(g), byte(i)})
				if err != nil {
					t.Error(err)
					return
				}
				// Acknowledged means durable.
				s, _ := w.lookup("s")
				if SeqNum(s.durableSeq.Load()) <= id {
					t.Errorf("Append returned %d before it was durable", id)
				}
			}
		}()
	}
	wg.Wait()
	m := w.Metrics()
	if m.Appends != workers*per || m.Syncs >= m.Appends {
		t.Fatalf("no group commit: %v", m)
	}
	t.Logf("%v", m)
}

func TestConcurrentAppendersReadersTruncate(t *testing.T) {
	o := testOptions(t)
	o.MaxEntriesPerSegment = 16
	o.MaxOpenSegments = 4
	w := mustOpen(t, o)
	defer mustClose(t, w)
	const streams, workers, per = 3, 4, 150
	names := []string{"x", "y", "z"}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for _, name := range names {
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					var err error
					if i%5 == 0 {
						_, err = w.AppendBatch(name, [][]byte{[]byte("b0"), []byte("b1"), []byte("b2")})
					} else {
						_, err = w.Append(name, []byte(name))
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	var readers sync.WaitGroup
	for _, name := range names {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				next := w.NextSeq(name)
				if next > 0 {
					if _, err := w.Get(name, next-1); err != nil {
						t.Error(err)
						return
					}
				}
				it, err := w.Iter(name, next/2)
				if err != nil {
					continue // stream not created yet
				}
				prev := SeqNum(0)
				for it.Next() {
					if prev != 0 && it.ID() != prev+1 {
						t.Errorf("iterator skipped from %d to %d", prev, it.ID())
					}
					prev = it.ID()
				}
				// A concurrent Truncate may remove segments under a slow iterator.
				it.Close()
				if next > 40 {
					if _, err := w.Truncate(name, next-40); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	for _, name := range names {
		if got := w.NextSeq(name); got != workers*(per+per/5*2) {
			t.Fatalf("%s: NextSeq %d, want %d", name, got, workers*(per+per/5*2))
		}
		n := w.NextSeq(name)
		ids, _ := collect(t, w, name, n-30)
		if len(ids) != 30 || ids[29] != n-1 {
			t.Fatalf("%s: tail has %d entries", name, len(ids))
		}
	}
}
