package wal

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestModel runs random operations against the WAL and against a plain in-memory model, and
// compares them after every step. It prints its seed; WAL_MODEL_SEED replays one.
func TestModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("WAL_MODEL_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	runs := 4
	if testing.Short() {
		runs = 1
	}
	for r := 0; r < runs; r++ {
		s := seed + uint64(r)
		t.Run(strconv.FormatUint(s, 10), func(t *testing.T) {
			t.Logf("seed %d (set WAL_MODEL_SEED=%d to replay)", s, s)
			runModel(t, s, 400)
		})
	}
}

type modelStream struct {
	entries [][]byte
	safe    SeqNum // entries below may have been truncated; none at or above
}

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	o := testOptions(t)
	o.MaxEntriesPerSegment = int64(1 + rng.IntN(20))
	o.MaxSegmentSize = int64(4<<10 + rng.IntN(16<<10))
	o.WriteBufferSize = 512 + rng.IntN(8<<10)
	o.MaxOpenSegments = 1 + rng.IntN(5)
	o.Compression = Compression(rng.IntN(2))
	o.MinCompressionSize = 1 + rng.IntN(200)
	o.ReadStrategy = ReadStrategy(rng.IntN(2))
	if rng.IntN(2) == 0 {
		o.BlockCacheSize = int64(rng.IntN(256 << 10))
	}
	t.Logf("options: %+v", o)
	w := mustOpen(t, o)
	defer func() { w.Close() }()
	names := []string{"a", "b", "c"}
	model := map[string]*modelStream{}
	newEntry := func() []byte {
		e := make([]byte, rng.IntN(600))
		fill := byte(rng.IntN(256))
		for i := range e {
			if rng.IntN(4) == 0 {
				fill = byte(rng.IntN(256))
			}
			e[i] = fill
		}
		return e
	}
	for step := 0; step < steps; step++ {
		name := names[rng.IntN(len(names))]
		m := model[name]
		switch op := rng.IntN(100); {
		case op < 35:
			e := newEntry()
			id, err := w.Append(name, e)
			if err != nil {
				t.Fatalf("step %d: Append: %v", step, err)
			}
			if m == nil {
				m = &modelStream{}
				model[name] = m
			}
			if id != SeqNum(len(m.entries)) {
				t.Fatalf("step %d: Append got id %d, want %d", step, id, len(m.entries))
			}
			m.entries = append(m.entries, e)
		case op < 50:
			n := rng.IntN(6)
			var es [][]byte
			for i := 0; i < n; i++ {
				es = append(es, newEntry())
			}
			var r Range
			var err error
			if rng.IntN(2) == 0 {
				r, err = w.AppendBatch(name, es)
			} else {
				tx := w.Writer(name)
				for _, e := range es {
					tx.Add(e)
				}
				r, err = tx.Commit()
			}
			if err != nil {
				t.Fatalf("step %d: batch: %v", step, err)
			}
			if m == nil && n > 0 {
				m = &modelStream{}
				model[name] = m
			}
			base := 0
			if m != nil {
				base = len(m.entries)
				m.entries = append(m.entries, es...)
			}
			if r != (Range{SeqNum(base), SeqNum(base + n)}) {
				t.Fatalf("step %d: batch range %v, want [%d, %d)", step, r, base, base+n)
			}
		case op < 70:
			if m == nil || len(m.entries) == 0 {
				continue
			}
			id := SeqNum(rng.IntN(len(m.entries) + 2))
			got, err := w.Get(name, id)
			switch {
			case int(id) >= len(m.entries):
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("step %d: Get(%d) past end = %v", step, id, err)
				}
			case err != nil:
				if id >= m.safe || !errors.Is(err, ErrNotFound) {
					t.Fatalf("step %d: Get(%d): %v (safe %d)", step, id, err, m.safe)
				}
			case !bytes.Equal(got, m.entries[id]):
				t.Fatalf("step %d: Get(%d) differs", step, id)
			}
		case op < 82:
			if m == nil {
				continue
			}
			start := SeqNum(rng.IntN(len(m.entries) + 2))
			ids, es := collect(t, w, name, start)
			want := max(start, 0)
			if len(ids) > 0 && ids[0] < start {
				t.Fatalf("step %d: Iter(%d) began at %d", step, start, ids[0])
			}
			if len(ids) > 0 && ids[0] > start && ids[0] > m.safe {
				t.Fatalf("step %d: Iter(%d) began at %d, past safe %d", step, start, ids[0], m.safe)
			}
			if len(ids) > 0 {
				want = ids[0]
			}
			for k, id := range ids {
				if id != want+SeqNum(k) || !bytes.Equal(es[k], m.entries[id]) {
					t.Fatalf("step %d: Iter(%d) entry %d wrong", step, start, id)
				}
			}
			if int(start) < len(m.entries) && (len(ids) == 0 || int(ids[len(ids)-1]) != len(m.entries)-1) {
				t.Fatalf("step %d: Iter(%d) did not reach the end", step, start)
			}
		case op < 88:
			if m == nil {
				continue
			}
			safe := SeqNum(rng.IntN(len(m.entries) + 1))
			if _, err := w.Truncate(name, safe); err != nil {
				t.Fatalf("step %d: Truncate: %v", step, err)
			}
			m.safe = max(m.safe, safe)
		case op < 94:
			if err := w.Sync(); err != nil {
				t.Fatalf("step %d: Sync: %v", step, err)
			}
		default:
			mustClose(t, w)
			w = mustOpen(t, o)
		}
		for n, ms := range model {
			if got := w.NextSeq(n); got != SeqNum(len(ms.entries)) {
				t.Fatalf("step %d: NextSeq(%s) = %d, want %d", step, n, got, len(ms.entries))
			}
		}
	}
}
