package isledb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// TestUnflushedIterator: the iterator sees the newest unflushed write of each key in its
// bounds across the active and frozen memtables, deletes and expired values marked; it
// sees nothing written after it was made (a batch applied meanwhile is wholly invisible);
// and what it returns stays intact while the writer flushes and recycles memtables,
// because it pins them until Close.
func TestUnflushedIterator(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		db := openTestDB(t, b.Open(t))
		o := isledb.DefaultWriterOptions()
		o.FlushInterval = -1
		o.MemtableSize = 1 << 20     // the filler below rotates it several times
		o.MaxImmutableMemtables = 64 // never backpressure, however slow the flushes
		w, err := db.OpenWriter(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(w.Put([]byte("a"), []byte("1")))
		must(w.Put([]byte("b"), []byte("2")))
		must(w.Flush(ctx)) // a and b are now in the manifest: not unflushed
		must(w.Put([]byte("b"), []byte("3")))
		must(w.Put([]byte("c"), []byte("4")))
		must(w.Delete([]byte("d")))
		must(w.PutWithTTL([]byte("e"), []byte("5"), time.Nanosecond))
		must(w.Put([]byte("z"), []byte("outside")))
		time.Sleep(time.Millisecond) // e's TTL passes (any later instant will do)

		u, err := w.NewUnflushedIterator([]byte("b"), []byte("e"))
		if err != nil {
			t.Fatal(err)
		}
		if u.FlushedSeq() != 2 || u.Seq() != 7 {
			t.Fatalf("FlushedSeq %d, Seq %d; want 2, 7", u.FlushedSeq(), u.Seq())
		}
		// After the iterator: overwrite c, and a batch over the whole range.
		must(w.Put([]byte("c"), []byte("late")))
		batch := w.NewBatch()
		for _, k := range []string{"b", "bb", "d"} {
			batch.Put([]byte(k), []byte("batch"))
		}
		must(w.Apply(ctx, batch))
		// Rotate and flush memtables many times so that recycled memory would overwrite
		// what the iterator reads, were it not pinned.
		filler := []byte(strings.Repeat("x", 1000))
		for i := range 5000 {
			must(w.Put(fmt.Appendf(nil, "f%05d", i), filler))
		}
		must(w.Flush(ctx))

		got := collectUnflushed(u)
		want := []string{"b=3", "c=4", "d=-", "e=-"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("iterator saw %v, want %v", got, want)
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
		if u.Next() {
			t.Fatal("Next after Close")
		}
		if err := u.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}

		// A new iterator sees the writer as it is now: everything flushed.
		u2, err := w.NewUnflushedIterator(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := collectUnflushed(u2); len(got) != 0 {
			t.Fatalf("after Flush: %v", got)
		}
		_ = u2.Close()

		must(w.Close())
		if _, err := w.NewUnflushedIterator(nil, nil); err == nil {
			t.Fatal("NewUnflushedIterator on a closed writer: no error")
		}
	})
}
