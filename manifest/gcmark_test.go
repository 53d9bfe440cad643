package manifest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

func TestGCMarkStorage(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		k := newBucket(t, b)
		g := NewBlobGCMarkStorage(k.handle())
		type slot struct {
			name  string
			load  func() ([]byte, string, bool, error)
			store func([]byte, string, bool) error
			key   string
		}
		for _, sl := range []slot{
			{"marks", func() ([]byte, string, bool, error) { return g.LoadPendingDeleteMarks(ctx) },
				func(d []byte, tok string, ex bool) error { return g.StorePendingDeleteMarks(ctx, d, tok, ex) }, GCMarksKey},
			{"checkpoint", func() ([]byte, string, bool, error) { return g.LoadGCCheckpoint(ctx) },
				func(d []byte, tok string, ex bool) error { return g.StoreGCCheckpoint(ctx, d, tok, ex) }, GCCheckpointKey},
		} {
			data, tok, exists, err := sl.load()
			if err != nil || exists || data != nil || tok != "" {
				t.Fatalf("%s: absent slot: %q %q %v %v", sl.name, data, tok, exists, err)
			}
			if err := sl.store([]byte("v1"), "", true); !errors.Is(err, ErrConflict) {
				t.Fatalf("%s: update of an absent slot: %v", sl.name, err)
			}
			if err := sl.store([]byte("v1"), "", false); err != nil {
				t.Fatalf("%s: create: %v", sl.name, err)
			}
			err = sl.store([]byte("again"), "", false)
			if !errors.Is(err, ErrConflict) || !errors.Is(err, blobstore.ErrPreconditionFailed) {
				t.Fatalf("%s: second create: %v", sl.name, err)
			}
			data, tok, exists, err = sl.load()
			if err != nil || !exists || string(data) != "v1" || tok == "" {
				t.Fatalf("%s: load: %q %q %v %v", sl.name, data, tok, exists, err)
			}
			if err := sl.store([]byte("v2"), tok, true); err != nil {
				t.Fatalf("%s: swap: %v", sl.name, err)
			}
			if err := sl.store([]byte("v3"), tok, true); !errors.Is(err, ErrConflict) {
				t.Fatalf("%s: swap with a stale token: %v", sl.name, err)
			}
			if raw, _, err := k.first.Read(ctx, sl.key); err != nil || string(raw) != "v2" {
				t.Fatalf("%s: object %s holds %q, %v", sl.name, sl.key, raw, err)
			}
		}

		// Concurrent read-modify-write loops lose no update.
		const workers, each = 4, 8
		var wg sync.WaitGroup
		for range workers {
			g := NewBlobGCMarkStorage(k.handle())
			wg.Go(func() {
				for range each {
					for {
						data, tok, exists, err := g.LoadGCCheckpoint(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						n, _ := strconv.Atoi(string(data[1:]))
						err = g.StoreGCCheckpoint(ctx, []byte("v"+strconv.Itoa(n+1)), tok, exists)
						if err == nil {
							break
						}
						if !errors.Is(err, ErrConflict) {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		data, _, _, err := g.LoadGCCheckpoint(ctx)
		if err != nil || string(data) != "v"+strconv.Itoa(2+workers*each) {
			t.Fatalf("counter %q (%v), want v%d: an update was lost", data, err, 2+workers*each)
		}
	})
}
