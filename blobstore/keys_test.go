package blobstore

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	valid := []string{"a", "sst/000001.sst", "manifest/log/00000000000000000001", "blob/ab12", "a.b", "a..b", "...a", "ünïcode/ключ", "a-b_c~d!e$f&g'h(i)j*k+l,m;n=o@p", strings.Repeat("k", MaxKeyLength)}
	for _, k := range valid {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	invalid := []string{"", ".", "..", "../a", "a/..", "a/../b", "/a", "a//b", "a/", "./a", "a\x00", "a\\b", "a\nb", "a\x7f", `a"b`, "a#b", "a%b", "a?b", string([]byte{0xc3}), strings.Repeat("k", MaxKeyLength+1)}
	for _, k := range invalid {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	if err := validatePrefix(""); err != nil {
		t.Errorf("empty prefix: %v", err)
	}
	if err := validatePrefix("db1/"); err != nil {
		t.Errorf("prefix with trailing slash: %v", err)
	}
}

type statusErr int

func (e statusErr) Error() string       { return "status" }
func (e statusErr) HTTPStatusCode() int { return int(e) }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{statusErr(503), true}, {statusErr(500), true}, {statusErr(429), true}, {statusErr(408), true},
		{statusErr(404), false}, {statusErr(412), false}, {statusErr(403), false}, {statusErr(400), false},
		{ErrNotFound, false}, {ErrPreconditionFailed, false}, {ErrInvalidKey, false},
		{timeoutErr{}, true}, {transientError{errors.New("x")}, true},
		{errors.New("plain"), false},
	}
	for _, c := range cases {
		if got := isTransient(c.err); got != c.want {
			t.Errorf("isTransient(%T %v) = %v, want %v", c.err, c.err, got, c.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, InitialBackoff: 10, MaxBackoff: 100}.withDefaults()
	for attempt := range 10 {
		limit := min(int64(10)<<attempt, 100)
		for range 200 {
			if d := p.backoff(attempt); d < 0 || int64(d) > limit {
				t.Fatalf("backoff(%d) = %d, want in [0, %d]", attempt, d, limit)
			}
		}
	}
}
