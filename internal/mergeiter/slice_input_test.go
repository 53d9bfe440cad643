package mergeiter

import (
	"errors"
	"strings"
	"testing"
)

func TestSliceInputSortsACopy(t *testing.T) {
	unsorted := []Entry{e("b#1"), e("a#1"), e("a#5"), e("c#2")}
	s := NewSliceInput(unsorted)
	if string(unsorted[0].Key) != "b" {
		t.Fatal("NewSliceInput modified the caller's slice")
	}
	var got []string
	for ok := s.First(); ok; ok = s.Next() {
		got = append(got, string(s.Key())+"@"+s.Seq().String())
	}
	if want := "a@5 a@1 b@1 c@2"; strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	if s.Len() != 4 || s.Next() || s.Valid() {
		t.Fatal("Len or end state wrong")
	}
}

func TestSliceInputSeekGE(t *testing.T) {
	s := NewSliceInput([]Entry{e("b#9"), e("b#3"), e("d#4"), e("dd#1")})
	tests := []struct {
		seek string
		key  string // "" means not valid
		seq  uint64
	}{
		{"", "b", 9}, {"a", "b", 9}, {"b", "b", 9}, {"ba", "d", 4}, {"d", "d", 4},
		{"d\x00", "dd", 1}, {"dd", "dd", 1}, {"e", "", 0},
	}
	for _, tt := range tests {
		ok := s.SeekGE([]byte(tt.seek))
		if ok != (tt.key != "") || ok != s.Valid() {
			t.Errorf("SeekGE(%q) = %v, want key %q", tt.seek, ok, tt.key)
			continue
		}
		if ok && (string(s.Key()) != tt.key || uint64(s.Seq()) != tt.seq) {
			t.Errorf("SeekGE(%q) at %s#%d, want %s#%d", tt.seek, s.Key(), s.Seq(), tt.key, tt.seq)
		}
	}
}

func TestSliceInputFailAfter(t *testing.T) {
	boom := errors.New("boom")
	s := NewSliceInput([]Entry{e("a#1"), e("b#2"), e("c#3")})
	s.FailAfter(2, boom)
	if !s.First() || !s.Next() {
		t.Fatal("the first two calls must succeed")
	}
	if s.Next() || s.Valid() || s.Err() != boom {
		t.Fatalf("third call: valid=%v err=%v", s.Valid(), s.Err())
	}
	if s.First() || s.SeekGE(nil) || s.Err() != boom {
		t.Fatal("the error must be sticky")
	}
	if s.Close() != boom || !s.Closed() || s.CloseCount() != 1 {
		t.Fatal("Close must report the error")
	}
}
