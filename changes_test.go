package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// TestChangeFeed: every put and delete arrives once, in sequence order, including writes
// to keys below earlier ones and overwrites (which Tail would skip); a resumed feed
// continues exactly after the last change delivered.
func TestChangeFeed(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.ValueStorage.BlobThreshold = 64
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tr := openTailer(t, store, 5*time.Millisecond)
	_ = tr.Start()

	type op struct {
		key, val string
		del      bool
	}
	var ops []op
	for i := range 300 {
		o := op{key: fmt.Sprintf("k%03d", (i*37)%50), val: fmt.Sprint("v", i)}
		switch {
		case i%7 == 0:
			o.del, o.val = true, ""
		case i%11 == 0:
			o.val = fmt.Sprintf("big-%03d-%0100d", i, i) // a blob value
		}
		ops = append(ops, o)
	}
	var got []isledb.Change
	const stopAt = 170
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- tr.TailChanges(cctx, isledb.ChangeOptions{}, func(c isledb.Change) error {
			got = append(got, c)
			if len(got) == stopAt {
				return errStopTail
			}
			return nil
		})
	}()
	for i, o := range ops {
		if o.del {
			err = w.Delete([]byte(o.key))
		} else {
			err = w.Put([]byte(o.key), []byte(o.val))
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%40 == 39 {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, errStopTail) {
		t.Fatalf("TailChanges: %v", err)
	}
	// Resume from the next sequence number with a one-shot read.
	_ = tr.Refresh(ctx)
	next, err := tr.Reader().Changes(ctx, isledb.ChangeOptions{FromSeq: got[len(got)-1].Seq + 1}, func(c isledb.Change) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ops) {
		t.Fatalf("%d changes, want %d", len(got), len(ops))
	}
	for i, c := range got {
		o := ops[i]
		if string(c.Key) != o.key || c.Delete != o.del || string(c.Value) != o.val || (i > 0 && c.Seq != got[i-1].Seq+1) {
			t.Fatalf("change %d = seq %d %s=%q del=%v; want %s=%q del=%v", i, c.Seq, c.Key, c.Value, c.Delete, o.key, o.val, o.del)
		}
	}
	if next != got[len(got)-1].Seq+1 {
		t.Fatalf("resume point %d, want %d", next, got[len(got)-1].Seq+1)
	}
	// Key bounds.
	n := 0
	_, _ = tr.Reader().Changes(ctx, isledb.ChangeOptions{MinKey: []byte("k010"), MaxKey: []byte("k019")}, func(c isledb.Change) error {
		if string(c.Key) < "k010" || string(c.Key) > "k019" {
			t.Errorf("change for %s outside the bounds", c.Key)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("no changes within the bounds")
	}
}
