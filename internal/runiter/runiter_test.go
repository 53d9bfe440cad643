package runiter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
)

// testRun is a run of in-memory SSTs; it records which SSTs were opened and how they were
// left.
type testRun struct {
	t      *testing.T
	tables [][]byte
	bounds [][2][]byte
	opened []int
	left   []string // "i:exhausted" or "i:abandoned"
	fail   int      // done of this SST returns errDone when exhausted; -1: never
}

var errDone = errors.New("done failed")

// newTestRun builds n SSTs of per keys each, keys k000.. in order.
func newTestRun(t *testing.T, n, per int) *testRun {
	r := &testRun{t: t, fail: -1}
	for i := range n {
		var buf bytes.Buffer
		w, err := sstable.NewWriter(&buf, sstable.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for j := range per {
			k := key(i*per + j)
			if err := w.Add(sstable.Entry{Key: k, Value: k, Seq: base.SeqNum(i*per + j + 1), Kind: base.KindValue}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(); err != nil {
			t.Fatal(err)
		}
		r.tables = append(r.tables, buf.Bytes())
		r.bounds = append(r.bounds, [2][]byte{key(i * per), key(i*per + per - 1)})
	}
	return r
}

func key(i int) []byte { return fmt.Appendf(nil, "k%03d", i) }

func (r *testRun) Len() int { return len(r.tables) }

func (r *testRun) Bounds(i int) ([]byte, []byte) { return r.bounds[i][0], r.bounds[i][1] }

func (r *testRun) Open(i int, lower, upper []byte) (*sstable.Iterator, func(bool) error, error) {
	rd, err := sstable.OpenBytes(r.tables[i], sstable.ReaderOptions{})
	if err != nil {
		return nil, nil, err
	}
	r.opened = append(r.opened, i)
	return rd.NewIter(context.Background(), sstable.IterOptions{Lower: lower, Upper: upper}), func(exhausted bool) error {
		how := "abandoned"
		if exhausted {
			how = "exhausted"
		}
		r.left = append(r.left, fmt.Sprintf("%d:%s", i, how))
		if exhausted && i == r.fail {
			return errDone
		}
		return nil
	}, nil
}

func collect(it *Iter, ok bool) []string {
	var got []string
	for ; ok; ok = it.Next() {
		got = append(got, string(it.Key()))
	}
	return got
}

func keys(from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, string(key(i)))
	}
	return s
}

func TestFullRun(t *testing.T) {
	r := newTestRun(t, 3, 4)
	it := New(r, Options{})
	if got := collect(it, it.First()); !slices.Equal(got, keys(0, 11)) {
		t.Fatalf("keys %v", got)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"0:exhausted", "1:exhausted", "2:exhausted"}; !slices.Equal(r.left, want) {
		t.Fatalf("left %v, want %v", r.left, want)
	}
}

func TestBoundsSkipTables(t *testing.T) {
	r := newTestRun(t, 4, 4) // k000-k003, k004-k007, k008-k011, k012-k015
	it := New(r, Options{Lower: key(5), Upper: key(9)})
	if got := collect(it, it.First()); !slices.Equal(got, keys(5, 9)) {
		t.Fatalf("keys %v", got)
	}
	_ = it.Close()
	// The first SST lies below the lower bound and the last above the upper bound: neither
	// is opened.
	if want := []int{1, 2}; !slices.Equal(r.opened, want) {
		t.Fatalf("opened %v, want %v", r.opened, want)
	}
}

func TestSeekGE(t *testing.T) {
	r := newTestRun(t, 3, 4)
	it := New(r, Options{})
	if got := collect(it, it.SeekGE(key(7))); !slices.Equal(got, keys(7, 11)) {
		t.Fatalf("keys %v", got)
	}
	if !slices.Equal(r.opened, []int{1, 2}) {
		t.Fatalf("seek opened %v, want [1 2]", r.opened)
	}
	// Past the last key: nothing, no error.
	if it.SeekGE([]byte("z")) || it.Err() != nil {
		t.Fatalf("seek past the end: valid %v err %v", it.Valid(), it.Err())
	}
	_ = it.Close()
}

func TestScanSeekReadsFrontToBack(t *testing.T) {
	r := newTestRun(t, 3, 4)
	it := New(r, Options{ScanSeek: true})
	if got := collect(it, it.SeekGE(key(6))); !slices.Equal(got, keys(6, 11)) {
		t.Fatalf("keys %v", got)
	}
	_ = it.Close()
	if want := []string{"0:exhausted", "1:exhausted", "2:exhausted"}; !slices.Equal(r.left, want) {
		t.Fatalf("left %v, want every SST read whole: %v", r.left, want)
	}
}

func TestCloseMidTableAbandons(t *testing.T) {
	r := newTestRun(t, 2, 4)
	it := New(r, Options{})
	if !it.First() || !it.Next() {
		t.Fatal("want entries")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"0:abandoned"}; !slices.Equal(r.left, want) {
		t.Fatalf("left %v, want %v", r.left, want)
	}
	if it.Valid() || it.Next() {
		t.Fatal("closed iterator still positioned")
	}
}

func TestDoneErrorStops(t *testing.T) {
	r := newTestRun(t, 3, 2)
	r.fail = 1
	it := New(r, Options{})
	got := collect(it, it.First())
	if !slices.Equal(got, keys(0, 3)) {
		t.Fatalf("keys %v, want the first two SSTs' keys then a stop", got)
	}
	if !errors.Is(it.Err(), errDone) || !errors.Is(it.Close(), errDone) {
		t.Fatalf("err %v, want %v", it.Err(), errDone)
	}
	if slices.Contains(r.opened, 2) {
		t.Fatal("opened the SST after the failure")
	}
}

func TestOpenErrorStops(t *testing.T) {
	r := newTestRun(t, 2, 2)
	r.tables[1] = []byte("not an sst")
	it := New(r, Options{})
	if got := collect(it, it.First()); !slices.Equal(got, keys(0, 1)) {
		t.Fatalf("keys %v", got)
	}
	if it.Err() == nil {
		t.Fatal("want the open error")
	}
}
