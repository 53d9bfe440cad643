package isledb_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

var modelSeeds = flag.Int("model.seeds", 100, "seeds of the model test on the memory store (a tenth on file, a twentieth on S3)")
var modelSeed = flag.Uint64("model.seed", 0, "run the model test with this one seed")

// TestModel runs random writes, flushes, refreshes, writer reopens and reads against the
// engine and against a Go map, comparing after every step. A failure prints its seed;
// -model.seed=N replays it.
func TestModel(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		n := *modelSeeds
		switch b.Name {
		case "file":
			n = max(n/10, 5)
		case "s3":
			n = max(n/20, 3)
		}
		seeds := make([]uint64, n)
		for i := range seeds {
			seeds[i] = uint64(i + 1)
		}
		if *modelSeed != 0 {
			seeds = []uint64{*modelSeed}
		}
		for _, seed := range seeds {
			t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
				runModel(t, b.Open(t), seed)
			})
		}
	})
}

type model struct {
	pending   map[string]*string // unflushed writes; nil value: deleted
	committed map[string]string  // what flushes made durable
	view      map[string]string  // what the reader sees (committed at its last refresh)
}

func (m *model) write(k string, v *string) { m.pending[k] = v }

func (m *model) flush() {
	for k, v := range m.pending {
		if v == nil {
			delete(m.committed, k)
		} else {
			m.committed[k] = *v
		}
	}
	clear(m.pending)
}

func runModel(t *testing.T, store *blobstore.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0xdeadbeef))
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: %s (replay: go test -run TestModel -model.seed=%d)", seed, fmt.Sprintf(format, args...), seed)
	}
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		fail("%v", err)
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1 // flushes happen only where the model says
	wopts.Compression = []string{"none", "snappy", "zstd", "lz4"}[rng.IntN(4)]
	if rng.IntN(2) == 0 {
		wopts.ValueStorage.BlobThreshold = 48 // some values become blobs
	}
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		fail("%v", err)
	}
	defer func() { _ = w.Close() }()
	ropts := isledb.ReaderOpenOptions{CacheDir: t.TempDir(), BlockCacheSize: 1 << 20}
	switch rng.IntN(3) {
	case 0: // read every SST by range
		ropts.RangeReadMinSSTSize, ropts.AllowUnverifiedRangeRead, ropts.DisableSSTBackgroundFill = 1, true, true
	case 1: // by range, then from the disk cache once filled in the background
		ropts.RangeReadMinSSTSize, ropts.AllowUnverifiedRangeRead = 1, true
	}
	r, err := isledb.OpenReader(ctx, store, ropts)
	if err != nil {
		fail("%v", err)
	}
	defer r.Close()

	m := &model{pending: map[string]*string{}, committed: map[string]string{}, view: map[string]string{}}
	keySpace := 20 + rng.IntN(200)
	key := func() string { return fmt.Sprintf("key-%04d", rng.IntN(keySpace)) }
	steps := 150 + rng.IntN(150)
	for step := range steps {
		switch op := rng.IntN(100); {
		case op < 40:
			k := key()
			v := fmt.Sprintf("v%d-%d-%s", seed, step, bytes.Repeat([]byte("x"), rng.IntN(80)))
			if err := w.Put([]byte(k), []byte(v)); err != nil {
				fail("step %d: Put: %v", step, err)
			}
			m.write(k, &v)
		case op < 50:
			k := key()
			if err := w.Delete([]byte(k)); err != nil {
				fail("step %d: Delete: %v", step, err)
			}
			m.write(k, nil)
		case op < 55:
			// A TTL that has passed before any read: the put is a deletion to readers.
			k := key()
			if err := w.PutWithTTL([]byte(k), []byte("ephemeral"), time.Nanosecond); err != nil {
				fail("step %d: PutWithTTL: %v", step, err)
			}
			m.write(k, nil)
		case op < 58:
			k, v := key(), fmt.Sprint("long-lived-", step)
			if err := w.PutWithTTL([]byte(k), []byte(v), time.Hour); err != nil {
				fail("step %d: PutWithTTL: %v", step, err)
			}
			m.write(k, &v)
		case op < 60:
			k := key()
			if err := w.DeleteWithTTL([]byte(k), time.Hour); err != nil {
				fail("step %d: DeleteWithTTL: %v", step, err)
			}
			m.write(k, nil)
		case op < 68:
			if err := w.Flush(ctx); err != nil {
				fail("step %d: Flush: %v", step, err)
			}
			m.flush()
		case op < 76:
			if err := r.Refresh(ctx); err != nil {
				fail("step %d: Refresh: %v", step, err)
			}
			m.view = maps.Clone(m.committed)
		case op < 78:
			// Reopen the writer: Close flushes.
			if err := w.Close(); err != nil {
				fail("step %d: Close: %v", step, err)
			}
			m.flush()
			if w, err = db.OpenWriter(ctx, wopts); err != nil {
				fail("step %d: reopen writer: %v", step, err)
			}
		case op < 90:
			k := key()
			v, ok, err := r.Get(ctx, []byte(k))
			want, wantOK := m.view[k]
			if err != nil || ok != wantOK || string(v) != want {
				fail("step %d: Get(%s) = %q, %v, %v; want %q, %v", step, k, v, ok, err, want, wantOK)
			}
		case op < 95:
			lo, hi := key(), key()
			if lo > hi {
				lo, hi = hi, lo
			}
			limit := rng.IntN(10)
			got, err := r.ScanLimit(ctx, []byte(lo), []byte(hi), limit)
			if err != nil {
				fail("step %d: ScanLimit: %v", step, err)
			}
			want := modelScan(m.view, lo, hi, limit)
			if !sameKVs(got, want) {
				fail("step %d: ScanLimit(%s, %s, %d) = %s\nwant %s", step, lo, hi, limit, fmtKVs(got), fmtKVs(want))
			}
		default:
			// Iterate with SeekGE from a random key over the whole range.
			it, err := r.NewIterator(ctx, isledb.IteratorOptions{})
			if err != nil {
				fail("step %d: NewIterator: %v", step, err)
			}
			target := key()
			var got []isledb.KV
			for ok := it.SeekGE([]byte(target)); ok; ok = it.Next() {
				got = append(got, isledb.KV{Key: bytes.Clone(it.Key()), Value: bytes.Clone(it.Value())})
			}
			if err := it.Close(); err != nil {
				fail("step %d: iterator: %v", step, err)
			}
			if want := modelScan(m.view, target, "\xff", 0); !sameKVs(got, want) {
				fail("step %d: SeekGE(%s) then Next = %s\nwant %s", step, target, fmtKVs(got), fmtKVs(want))
			}
		}
	}
	// In the end everything flushed is visible.
	if err := w.Flush(ctx); err != nil {
		fail("final Flush: %v", err)
	}
	m.flush()
	if err := r.Refresh(ctx); err != nil {
		fail("final Refresh: %v", err)
	}
	got, err := r.Scan(ctx, nil, nil)
	if err != nil {
		fail("final Scan: %v", err)
	}
	if want := modelScan(m.committed, "", "\xff", 0); !sameKVs(got, want) {
		fail("final Scan = %s\nwant %s", fmtKVs(got), fmtKVs(want))
	}
}

func modelScan(view map[string]string, lo, hi string, limit int) []isledb.KV {
	keys := slices.Sorted(maps.Keys(view))
	var out []isledb.KV
	for _, k := range keys {
		if k >= lo && k <= hi && (limit <= 0 || len(out) < limit) {
			out = append(out, isledb.KV{Key: []byte(k), Value: []byte(view[k])})
		}
	}
	return out
}

func sameKVs(a, b []isledb.KV) bool {
	return slices.EqualFunc(a, b, func(x, y isledb.KV) bool { return bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Value, y.Value) })
}

func fmtKVs(kvs []isledb.KV) string {
	var b bytes.Buffer
	for _, kv := range kvs {
		v := kv.Value
		if len(v) > 12 {
			v = v[:12]
		}
		fmt.Fprintf(&b, "%s=%s ", kv.Key, v)
	}
	return "[" + b.String() + "]"
}
