package bucketwal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

// TestGroupCommit: records added while a PUT is in flight go out together in the next
// object, and Wait returns for each once its object landed. Ordered by a hook that holds
// the first PUT, never by time.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	first := true
	hb := &testutil.HookBackend{Backend: blobstore.NewMemory("").Backend(), Before: func(op, key string) {
		if op == "put" && first {
			first = false
			held <- struct{}{}
			<-hold
		}
	}}
	store := blobstore.NewWithBackend(hb, "", "db")
	c := Start(Options{Store: store, Epoch: 1, Next: 2, CoveredBelow: 1})
	defer c.Close()
	if err := c.Add(1, 1, []byte("r1")); err != nil {
		t.Fatal(err)
	}
	<-held // the first PUT (r1 alone) is in flight
	for i := 2; i <= 5; i++ {
		if err := c.Add(uint64(i), uint64(i), fmt.Appendf(nil, "r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	close(hold)
	if err := c.Wait(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Objects != 2 || st.Records != 5 {
		t.Fatalf("stats %+v, want 2 objects of 5 records", st)
	}
	o, err := ReadObject(ctx, store, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Records) != 4 || o.SeqLo != 2 || o.SeqHi != 5 || o.CoveredBelow != 2 {
		t.Fatalf("second object %+v", o)
	}
	// Covered: the next object says both are covered.
	c.Covered(5)
	if err := c.Add(6, 6, []byte("r6")); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if o, err = ReadObject(ctx, store, 4); err != nil || o.CoveredBelow != 4 {
		t.Fatalf("third object %+v, %v; want covered below 4", o, err)
	}
}

// TestCommitterPositionTaken: an older writer's late fence is gone past; anything else at
// the position fences the Committer.
func TestCommitterPositionTaken(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		taken  Object
		fenced bool
	}{
		{"older fence", Object{Kind: KindFence, Position: 2, Epoch: 2}, false},
		{"newer fence", Object{Kind: KindFence, Position: 2, Epoch: 4}, true},
		{"older data", Object{Kind: KindData, Position: 2, Epoch: 2, SeqLo: 1, SeqHi: 1, Records: [][]byte{[]byte("x")}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := blobstore.NewMemory("db")
			if _, err := store.WriteIfNotExist(ctx, Key(2), Encode(nil, &tc.taken)); err != nil {
				t.Fatal(err)
			}
			c := Start(Options{Store: store, Epoch: 3, Next: 2, CoveredBelow: 1})
			defer c.Close()
			if err := c.Add(10, 10, []byte("r")); err != nil {
				t.Fatal(err)
			}
			err := c.Wait(ctx, 10)
			if tc.fenced {
				if !errors.Is(err, manifest.ErrFenced) || !strings.Contains(err.Error(), Key(2)) {
					t.Fatalf("Wait = %v, want ErrFenced naming %s", err, Key(2))
				}
				if err := c.Add(11, 11, nil); !errors.Is(err, manifest.ErrFenced) {
					t.Fatalf("Add after the fence = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o, err := ReadObject(ctx, store, 3); err != nil || o.Epoch != 3 || o.SeqHi != 10 {
				t.Fatalf("object at 3: %+v, %v", o, err)
			}
		})
	}
}

// TestFence: the fence goes after the newest object, past objects landed meanwhile, and
// Fence returns the objects from the newest coverage on.
func TestFence(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	put := func(o Object) {
		t.Helper()
		if _, err := store.WriteIfNotExist(ctx, Key(o.Position), Encode(nil, &o)); err != nil {
			t.Fatal(err)
		}
	}
	put(Object{Kind: KindFence, Position: 1, Epoch: 1})
	put(Object{Kind: KindData, Position: 2, Epoch: 1, CoveredBelow: 1, SeqLo: 1, SeqHi: 1, Records: [][]byte{[]byte("a")}})
	put(Object{Kind: KindData, Position: 3, Epoch: 1, CoveredBelow: 3, SeqLo: 2, SeqHi: 2, Records: [][]byte{[]byte("b")}})
	rec, err := Fence(ctx, store, 5)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Fence != 4 || rec.CoveredBelow != 3 || len(rec.Objects) != 1 || rec.Objects[0].Position != 3 {
		t.Fatalf("recovery %+v", rec)
	}
	if o, err := ReadObject(ctx, store, 4); err != nil || o.Kind != KindFence || o.Epoch != 5 {
		t.Fatalf("fence %+v, %v", o, err)
	}
}
