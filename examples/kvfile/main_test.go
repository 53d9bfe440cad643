package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestKVFile(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), t.TempDir(), 15, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"reader: hello=world (found true)", "tail: event/000000=payload 0", "tail: event/000014=payload 14", "tailed 15 events"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "tail: ") != 15 {
		t.Errorf("tailed %d events, want 15", strings.Count(s, "tail: "))
	}
}
