package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestKVLocal(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.TempDir(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{`user:1:name = string:"Ada"`, "user:1:visits = int64:42", "pi is not a string", "scans 1"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "user:2:admin") {
		t.Errorf("the deleted key is listed:\n%s", s)
	}
}
