package gc

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
	"github.com/isledb/isledb/manifest"
)

// racingMarks is a GCMarkStorage whose next `races` stores of the marks find them changed
// by someone else just before (another process's update, id "other-<n>"), so that their
// compare-and-swap loses.
type racingMarks struct {
	manifest.GCMarkStorage
	races int
	n     int
}

func (r *racingMarks) StorePendingDeleteMarks(ctx context.Context, data []byte, tok string, exists bool) error {
	if r.races > 0 {
		r.races--
		r.n++
		cur, curTok, curExists, err := r.LoadPendingDeleteMarks(ctx)
		if err != nil {
			return err
		}
		m := Marks{}
		if curExists {
			if m, err = DecodeMarks(cur); err != nil {
				return err
			}
		}
		m["other-"+string(rune('0'+r.n))] = Mark{Epoch: 9}
		if err := r.GCMarkStorage.StorePendingDeleteMarks(ctx, EncodeMarks(m), curTok, curExists); err != nil {
			return err
		}
	}
	return r.GCMarkStorage.StorePendingDeleteMarks(ctx, data, tok, exists)
}

func testRepair(store *blobstore.Store) repair {
	return repair{store: store, logger: slog.New(slog.DiscardHandler), now: time.Now}
}

func loadMarks(t *testing.T, s manifest.GCMarkStorage) Marks {
	t.Helper()
	m, _, _, err := marksObject(s).get(context.Background(), repair{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUpdateRetriesOnConflict: update reloads and applies fn again when its store loses
// the compare-and-swap, so the concurrent change and fn's both survive; it gives up with
// ErrConflict after maxCASAttempts.
func TestUpdateRetriesOnConflict(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	s := &racingMarks{GCMarkStorage: manifest.NewBlobGCMarkStorage(store), races: 2}
	runs := 0
	err := update(ctx, marksObject(s), testRepair(store), func(m Marks) (bool, error) {
		runs++
		m["mine"] = Mark{Epoch: 1}
		return true, nil
	})
	if err != nil || runs != 3 {
		t.Fatalf("update = %v after %d runs of fn, want nil after 3", err, runs)
	}
	if got := slices.Sorted(maps.Keys(loadMarks(t, s))); !slices.Equal(got, []string{"mine", "other-1", "other-2"}) {
		t.Fatalf("marks after the update: %v", got)
	}

	s.races = maxCASAttempts
	err = update(ctx, marksObject(s), testRepair(store), func(m Marks) (bool, error) {
		m["never"] = Mark{}
		return true, nil
	})
	if !errors.Is(err, manifest.ErrConflict) {
		t.Fatalf("update against a store that always races = %v, want ErrConflict", err)
	}
	if _, ok := loadMarks(t, s)["never"]; ok {
		t.Fatal("a lost update was stored")
	}
}

// TestUpdateNoChange: fn reporting no change stores nothing.
func TestUpdateNoChange(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	s := manifest.NewBlobGCMarkStorage(store)
	if err := update(ctx, marksObject(s), testRepair(store), func(Marks) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, exists, err := s.LoadPendingDeleteMarks(ctx); err != nil || exists {
		t.Fatalf("marks stored for no change: %v, %v", exists, err)
	}
}

// TestUpdateStoresOnFailure: when fn fails after changing the value, update stores the
// change once (best effort) and returns fn's error unchanged.
func TestUpdateStoresOnFailure(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	s := manifest.NewBlobGCMarkStorage(store)
	boom := errors.New("boom")
	err := update(ctx, marksObject(s), testRepair(store), func(m Marks) (bool, error) {
		m["kept"] = Mark{}
		return true, boom
	})
	if err != boom {
		t.Fatalf("update = %v, want fn's error", err)
	}
	if _, ok := loadMarks(t, s)["kept"]; !ok {
		t.Fatal("the change of a failed fn was not stored")
	}
}

// TestDeleteObjects: the one batch delete reports which keys are gone, on success and on
// a partial failure.
func TestDeleteObjects(t *testing.T) {
	ctx := context.Background()
	store, fb := faultstore.NewMemoryStore("db")
	keys := []string{"sst/a.sst", "sst/b.sst", "sst/c.sst"}
	for _, k := range keys {
		if _, err := store.Write(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if gone, err := deleteObjects(ctx, store, nil); gone != nil || err != nil {
		t.Fatalf("deleting nothing = %v, %v", gone, err)
	}
	fb.FailPermanentlyIf(faultstore.OpsOn(faultstore.OpDelete, "b.sst"), -1)
	gone, err := deleteObjects(ctx, store, keys)
	var be *blobstore.BatchDeleteError
	if !errors.As(err, &be) || !slices.Equal(gone, []int{0, 2}) {
		t.Fatalf("partial failure: gone %v, err %v", gone, err)
	}
	fb.Clear()
	if gone, err := deleteObjects(ctx, store, keys[1:2]); err != nil || !slices.Equal(gone, []int{0}) {
		t.Fatalf("after the fault: gone %v, err %v", gone, err)
	}
	if ok, _ := store.Exists(ctx, "sst/b.sst"); ok {
		t.Fatal("sst/b.sst survived")
	}
}
