package mergeiter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

const testNow = 1_000_000

// e parses "key#seq" into a value entry with value "key@seq"; "key#seq:del" is a tombstone,
// "key#seq:blob" a blob reference, "key#seq:exp" a value that expired at testNow and
// "key#seq:ttl" a value that expires after testNow.
func e(spec string) Entry {
	spec, flag, _ := strings.Cut(spec, ":")
	key, seqStr, ok := strings.Cut(spec, "#")
	if !ok {
		panic("bad spec " + spec)
	}
	var seq uint64
	fmt.Sscan(seqStr, &seq)
	ent := Entry{Key: []byte(key), Value: []byte(key + "@" + seqStr), Seq: base.SeqNum(seq), Kind: base.KindValue}
	switch flag {
	case "":
	case "del":
		ent.Kind, ent.Value = base.KindDelete, nil
	case "blob":
		ent.Kind = base.KindBlobRef
	case "exp":
		ent.Expiry = testNow
	case "ttl":
		ent.Expiry = testNow + 1
	default:
		panic("bad flag " + flag)
	}
	return ent
}

func sliceInputs(specs ...[]string) ([]Input, []*SliceInput) {
	var ins []Input
	var sis []*SliceInput
	for _, s := range specs {
		var ents []Entry
		for _, spec := range s {
			ents = append(ents, e(spec))
		}
		si := NewSliceInput(ents)
		ins = append(ins, si)
		sis = append(sis, si)
	}
	return ins, sis
}

// describe renders the current entry as "key#seq" plus ":del" or ":blob" for those kinds.
func describe(it *Iterator) string {
	s := fmt.Sprintf("%s#%d", it.Key(), it.Seq())
	switch it.Kind() {
	case base.KindDelete:
		s += ":del"
	case base.KindBlobRef:
		s += ":blob"
	}
	return s
}

func collect(it *Iterator) []string {
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, describe(it))
	}
	return out
}

func TestMergeModes(t *testing.T) {
	inputs := [][]string{
		{"a#5", "b#9:del", "c#3", "e#20:exp", "f#30:ttl"},
		{"a#4", "b#2", "c#10:blob", "d#1", "e#8"},
		{"a#1:del", "d#7:del", "g#40"},
	}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"visible", Options{}, []string{"a#5", "c#10:blob", "f#30", "g#40"}},
		{"newest", Options{Mode: ModeNewest}, []string{"a#5", "b#9:del", "c#10:blob", "d#7:del", "e#20", "f#30", "g#40"}},
		{"all", Options{Mode: ModeAll}, []string{
			"a#5", "a#4", "a#1:del", "b#9:del", "b#2", "c#10:blob", "c#3", "d#7:del", "d#1", "e#20", "e#8", "f#30", "g#40"}},
		{"visible bounded", Options{Lower: []byte("b"), Upper: []byte("f")}, []string{"c#10:blob", "f#30"}},
		{"newest bounded", Options{Mode: ModeNewest, Lower: []byte("bb"), Upper: []byte("e")}, []string{"c#10:blob", "d#7:del", "e#20"}},
		{"all bounded", Options{Mode: ModeAll, Lower: []byte("d"), Upper: []byte("d")}, []string{"d#7:del", "d#1"}},
		{"visible later now", Options{Now: testNow + 1}, []string{"a#5", "c#10:blob", "g#40"}},
		{"visible earlier now", Options{Now: testNow - 1}, []string{"a#5", "c#10:blob", "e#20", "f#30", "g#40"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, _ := sliceInputs(inputs...)
			if tt.opts.Now == 0 {
				tt.opts.Now = testNow
			}
			it := New(ins, tt.opts)
			got := collect(it)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			if err := it.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValueAndExpiry(t *testing.T) {
	ins, _ := sliceInputs([]string{"a#1", "b#2:ttl"}, []string{"a#3:blob"})
	it := New(ins, Options{Now: testNow})
	defer it.Close()
	if !it.First() || string(it.Value()) != "a@3" || it.Kind() != base.KindBlobRef || it.Expiry() != 0 {
		t.Fatalf("first: %s %q %v %d", describe(it), it.Value(), it.Kind(), it.Expiry())
	}
	if !it.Next() || string(it.Value()) != "b@2" || it.Expiry() != testNow+1 {
		t.Fatalf("second: %s %q %d", describe(it), it.Value(), it.Expiry())
	}
	if it.Next() || it.Valid() || it.Err() != nil {
		t.Fatalf("third: valid=%v err=%v", it.Valid(), it.Err())
	}
	if it.Next() {
		t.Fatal("Next after the end returned true")
	}
}

func TestBounds(t *testing.T) {
	data := []string{"a#1", "b#2", "c#3", "d#4"}
	tests := []struct {
		name         string
		lower, upper string // "-" means nil
		want         string
		seek         string
		wantSeek     string
	}{
		{"nil bounds", "-", "-", "a b c d", "bb", "c d"},
		{"empty lower is unbounded", "", "-", "a b c d", "", "a b c d"},
		{"lower == upper present", "b", "b", "b", "a", "b"},
		{"lower == upper absent", "bb", "bb", "", "a", ""},
		{"lower > upper", "c", "b", "", "a", ""},
		{"lower below all", "0", "a", "a", "a", "a"},
		{"upper above all", "c", "z", "c d", "d", "d"},
		{"range between keys", "aa", "az", "", "a", ""},
		{"seek past upper", "-", "b", "a b", "c", ""},
		{"seek below lower clamps", "c", "-", "c d", "a", "c d"},
		{"upper only", "-", "c", "a b c", "c", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bound := func(s string) []byte {
				if s == "-" {
					return nil
				}
				return []byte(s)
			}
			for _, mode := range []Mode{ModeVisible, ModeNewest, ModeAll} {
				ins, _ := sliceInputs(data[:2], data[2:])
				it := New(ins, Options{Lower: bound(tt.lower), Upper: bound(tt.upper), Mode: mode})
				if got := keys(it, it.First()); got != tt.want {
					t.Errorf("%v First: got %q, want %q", mode, got, tt.want)
				}
				if got := keys(it, it.SeekGE([]byte(tt.seek))); got != tt.wantSeek {
					t.Errorf("%v SeekGE(%q): got %q, want %q", mode, tt.seek, got, tt.wantSeek)
				}
				it.Close()
			}
		})
	}
}

// keys drains it from its current position and returns the keys seen, space-separated.
func keys(it *Iterator, ok bool) string {
	var out []string
	for ; ok; ok = it.Next() {
		out = append(out, string(it.Key()))
	}
	return strings.Join(out, " ")
}

func TestEmptyInputs(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		ins := make([]Input, n)
		for i := range ins {
			ins[i] = NewSliceInput(nil)
		}
		it := New(ins, Options{})
		if it.First() || it.SeekGE([]byte("a")) || it.Valid() || it.Err() != nil || it.Close() != nil {
			t.Fatalf("%d empty inputs: iterator not empty", n)
		}
	}
}

func TestSeekGEWithOwnKey(t *testing.T) {
	// The caller may pass Key() back to SeekGE: the iterator must not be confused by the
	// aliasing.
	for _, mode := range []Mode{ModeVisible, ModeNewest, ModeAll} {
		ins, _ := sliceInputs([]string{"a#1", "c#3"}, []string{"b#2", "c#1"})
		it := New(ins, Options{Mode: mode})
		if !it.First() || !it.Next() {
			t.Fatal("too short")
		}
		if !it.SeekGE(it.Key()) || string(it.Key()) != "b" {
			t.Fatalf("%v: SeekGE(own key) landed on %q", mode, it.Key())
		}
		it.Close()
	}
}

func TestKeyStableUntilNextPositioning(t *testing.T) {
	// An input that reuses one key buffer, like a block iterator with prefix compression.
	in := &reusingInput{SliceInput: NewSliceInput([]Entry{e("k1#9"), e("k1#8"), e("k2#7")})}
	it := New([]Input{in}, Options{Mode: ModeNewest})
	if !it.First() {
		t.Fatal("empty")
	}
	if !it.Next() || string(it.Key()) != "k2" || it.Seq() != 7 {
		t.Fatalf("got %s, want k2#7 (the older k1 version must be skipped)", describe(it))
	}
	it.Close()
}

// reusingInput returns its keys in one buffer that every move overwrites.
type reusingInput struct {
	*SliceInput
	buf []byte
}

func (r *reusingInput) Key() []byte {
	r.buf = append(r.buf[:0], r.SliceInput.Key()...)
	return r.buf
}

func (r *reusingInput) Next() bool {
	ok := r.SliceInput.Next()
	for i := range r.buf {
		r.buf[i] = 'X' // scribble, as a decoder reusing its buffer would
	}
	return ok
}

func TestErrorPropagation(t *testing.T) {
	boom := errors.New("boom")
	// Fail input 1 at each of its positioning calls in turn, in each mode.
	for _, mode := range []Mode{ModeVisible, ModeNewest, ModeAll} {
		for failAt := 0; ; failAt++ {
			ins, sis := sliceInputs([]string{"a#1", "c#3", "e#5"}, []string{"a#2", "b#4", "d#6:del", "f#7"})
			sis[1].FailAfter(failAt, boom)
			it := New(ins, Options{Mode: mode})
			n := 0
			for ok := it.First(); ok; ok = it.Next() {
				n++
			}
			if it.Valid() {
				t.Fatal("valid after the loop")
			}
			if it.Err() == nil {
				// The input was never called often enough to fail: every failure point has
				// been tried.
				if failAt < 3 {
					t.Fatalf("%v failAt=%d: no error", mode, failAt)
				}
				it.Close()
				break
			}
			if !errors.Is(it.Err(), boom) {
				t.Fatalf("%v failAt=%d: Err = %v", mode, failAt, it.Err())
			}
			if it.First() || it.SeekGE([]byte("a")) || it.Next() {
				t.Fatalf("%v failAt=%d: positioned after an error", mode, failAt)
			}
			if err := it.Close(); !errors.Is(err, boom) {
				t.Fatalf("%v failAt=%d: Close = %v", mode, failAt, err)
			}
		}
	}
}

func TestErrorOnSeek(t *testing.T) {
	boom := errors.New("boom")
	ins, sis := sliceInputs([]string{"a#1"}, []string{"b#2"})
	sis[0].FailAfter(0, boom)
	it := New(ins, Options{})
	if it.SeekGE([]byte("a")) || !errors.Is(it.Err(), boom) {
		t.Fatalf("SeekGE: valid=%v err=%v", it.Valid(), it.Err())
	}
	it.Close()
}

func TestUnknownKind(t *testing.T) {
	bad := Entry{Key: []byte("b"), Seq: 2, Kind: base.KindMax + 1}
	for _, mode := range []Mode{ModeVisible, ModeNewest, ModeAll} {
		it := New([]Input{NewSliceInput([]Entry{e("a#1"), bad})}, Options{Mode: mode})
		if got := collect(it); len(got) != 1 || !base.IsCorruption(it.Err()) {
			t.Fatalf("%v: got %v err %v", mode, got, it.Err())
		}
		it.Close()
	}
}

type closeErrInput struct {
	*SliceInput
	err error
}

func (c *closeErrInput) Close() error {
	c.SliceInput.Close()
	return c.err
}

func TestCloseClosesAll(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	ins, sis := sliceInputs([]string{"a#1"}, []string{"b#2"}, []string{"c#3"}, []string{"d#4"})
	ins[1] = &closeErrInput{SliceInput: sis[1], err: first}
	ins[3] = &closeErrInput{SliceInput: sis[3], err: second}
	it := New(ins, Options{})
	collect(it)
	if err := it.Close(); err != first {
		t.Fatalf("Close = %v, want %v", err, first)
	}
	for i, si := range sis {
		if si.CloseCount() != 1 {
			t.Errorf("input %d closed %d times", i, si.CloseCount())
		}
	}
	if err := it.Close(); err != first {
		t.Fatalf("second Close = %v", err)
	}
	for i, si := range sis {
		if si.CloseCount() != 1 {
			t.Errorf("after a second Close, input %d closed %d times", i, si.CloseCount())
		}
	}
	if it.First() || it.SeekGE(nil) || it.Valid() {
		t.Fatal("positioned after Close")
	}
}

func TestInvalidOptions(t *testing.T) {
	ins, sis := sliceInputs([]string{"a#1"})
	it := New(ins, Options{Now: -1, Mode: 7})
	if it.First() || !errors.Is(it.Err(), ErrInvalidOptions) {
		t.Fatalf("First=%v Err=%v", it.Valid(), it.Err())
	}
	msg := it.Err().Error()
	if !strings.Contains(msg, "Now") || !strings.Contains(msg, "Mode") {
		t.Errorf("not every violation reported: %s", msg)
	}
	if err := it.Close(); !errors.Is(err, ErrInvalidOptions) || !sis[0].Closed() {
		t.Fatalf("Close = %v, closed=%v", err, sis[0].Closed())
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		opts Options
		ok   bool
	}{
		{Options{}, true},
		{Options{Mode: ModeAll, Now: 1}, true},
		{Options{Lower: []byte("z"), Upper: []byte("a")}, true},
		{Options{Now: -5}, false},
		{Options{Mode: modeCount}, false},
	}
	for _, tt := range tests {
		err := tt.opts.EnsureDefaults().Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v: Validate = %v", tt.opts, err)
		}
	}
	if (Options{}).EnsureDefaults().Now == 0 {
		t.Error("EnsureDefaults left Now at 0")
	}
	for m, want := range map[Mode]string{ModeVisible: "visible", ModeNewest: "newest", ModeAll: "all", 9: "mode(9)"} {
		if m.String() != want {
			t.Errorf("Mode(%d).String() = %q", m, m.String())
		}
	}
}

func TestExpired(t *testing.T) {
	tests := []struct {
		expiry, now int64
		want        bool
	}{
		{0, 0, false}, {0, 100, false}, {99, 100, true}, {100, 100, true}, {101, 100, false},
	}
	for _, tt := range tests {
		if got := Expired(tt.expiry, tt.now); got != tt.want {
			t.Errorf("Expired(%d, %d) = %v", tt.expiry, tt.now, got)
		}
	}
}

func TestManyInputs(t *testing.T) {
	// 100 inputs; key k is written by every input i with i%(k%7+1) == 0, input i holding
	// seq k*1000+i, so the newest version comes from the highest such input.
	const nIn, nKeys = 100, 500
	ins := make([]Input, nIn)
	for i := range nIn {
		var ents []Entry
		for k := range nKeys {
			if i%(k%7+1) == 0 {
				kind := base.KindValue
				if k%11 == 0 && i == 98 {
					kind = base.KindDelete
				}
				ents = append(ents, Entry{Key: fmt.Appendf(nil, "key%05d", k), Value: fmt.Appendf(nil, "%d", i),
					Seq: base.SeqNum(k*1000 + i), Kind: kind})
			}
		}
		ins[i] = NewSliceInput(ents)
	}
	it := New(ins, Options{})
	ok := it.First()
	for k := range nKeys {
		newest := (nIn - 1) / (k%7 + 1) * (k%7 + 1)
		if newest == 98 && k%11 == 0 {
			continue // hidden by the tombstone
		}
		if !ok {
			t.Fatalf("ran out at key %d: %v", k, it.Err())
		}
		if want := fmt.Sprintf("key%05d=%d", k, newest); fmt.Sprintf("%s=%s", it.Key(), it.Value()) != want {
			t.Fatalf("got %s=%s, want %s", it.Key(), it.Value(), want)
		}
		ok = it.Next()
	}
	if ok || it.Err() != nil {
		t.Fatalf("extra entries: %s", describe(it))
	}
	it.Close()
}

func TestMergedIteratorAsInput(t *testing.T) {
	// An Iterator in ModeAll is itself an Input: merging merged streams gives the same result.
	inner, _ := sliceInputs([]string{"a#1", "c#3"}, []string{"a#4:del", "b#2"})
	outer, _ := sliceInputs([]string{"a#5:del", "c#6"})
	ins := append(outer, New(inner, Options{Mode: ModeAll}))
	it := New(ins, Options{Mode: ModeAll})
	if got, want := strings.Join(collect(it), " "), "a#5:del a#4:del a#1 b#2 c#6 c#3"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	it.Close()
}
