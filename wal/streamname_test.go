package wal

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateStreamName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"events", true},
		{"shard-00001", true},
		{"a b", true},
		{"ünïcode", true},
		{strings.Repeat("x", MaxStreamNameLen), true},
		{"", false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"/", false},
		{"\\", false},
		{"a/b", false},
		{"a\\b", false},
		{"../escape", false},
		{"/etc/passwd", false},
		{"C:evil", false},
		{"nul\x00byte", false},
		{"tab\tname", false},
		{"del\x7f", false},
		{"\xff\xfe", false},
		{strings.Repeat("x", MaxStreamNameLen+1), false},
	} {
		err := ValidateStreamName(c.name)
		if (err == nil) != c.ok {
			t.Errorf("ValidateStreamName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
		var ie *InvalidStreamNameError
		if err != nil && (!errors.Is(err, ErrInvalidStreamName) || !errors.As(err, &ie) || ie.Name != c.name) {
			t.Errorf("ValidateStreamName(%q) = %#v, want *InvalidStreamNameError", c.name, err)
		}
	}
}

func TestInvalidStreamNameRejectedEverywhere(t *testing.T) {
	w := mustOpen(t, testOptions(t))
	defer mustClose(t, w)
	for _, name := range []string{"", "..", "/abs", "a/b", "x\x00"} {
		if _, err := w.Append(name, []byte("x")); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("Append(%q) = %v", name, err)
		}
		if _, err := w.AppendBatch(name, [][]byte{[]byte("x")}); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("AppendBatch(%q) = %v", name, err)
		}
		if _, err := w.AppendBatch(name, nil); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("AppendBatch(%q, nil) = %v", name, err)
		}
		tx := w.Writer(name)
		tx.Add([]byte("x"))
		if _, err := tx.Commit(); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("Commit(%q) = %v", name, err)
		}
		if _, err := w.Get(name, 0); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("Get(%q) = %v", name, err)
		}
		if _, err := w.Iter(name, 0); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("Iter(%q) = %v", name, err)
		}
		if _, err := w.Truncate(name, 0); !errors.Is(err, ErrInvalidStreamName) {
			t.Errorf("Truncate(%q) = %v", name, err)
		}
	}
	if s := w.Streams(); len(s) != 0 {
		t.Fatalf("streams created: %q", s)
	}
}
