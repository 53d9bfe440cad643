package cli

import (
	"bytes"
	"regexp"
	"testing"
)

// TestProgressFormats pins the two bars' text: the verbs' (verify) and the rate bar of
// cmd/isledb's demo and bench, which share one implementation.
func TestProgressFormats(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, "verify", 10)
	p.Update(10) // the end is always drawn
	if want := "\rverify   [##############################] 100% 10/10\n"; b.String() != want {
		t.Errorf("verb bar = %q, want %q", b.String(), want)
	}
	b.Reset()
	p = NewProgress(&b, "blobs", 0)
	p.Update(0)
	if want := "\rblobs    [..............................]   0% 0/0\n"; b.String() != want {
		t.Errorf("empty verb bar = %q, want %q", b.String(), want)
	}
	b.Reset()
	p = NewRateProgress(&b, "put", 4)
	p.Update(4)
	re := regexp.MustCompile(`^\rput        \[#{30}\] 100%         4/4  [ 0-9]{9}[0-9]/s\n$`)
	if !re.MatchString(b.String()) {
		t.Errorf("rate bar = %q, want it to match %s", b.String(), re)
	}
}
