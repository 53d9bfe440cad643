package diskcache

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"00000000000000000001-00000000000000000042-ab12", true},
		{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true},
		{"a", true},
		{".hidden", true},
		{"a.b", true},
		{"UPPER and spaces ~!", true},
		{strings.Repeat("x", MaxNameLen), true},
		{strings.Repeat("X", 85), true},            // 255 bytes escaped
		{strings.Repeat("X", 86), false},           // 258 bytes escaped
		{strings.Repeat("x", 190) + "XXXXX", true}, // 205 bytes escaped
		{"", false},
		{strings.Repeat("x", MaxNameLen+1), false},
		{".", false},
		{"..", false},
		{"a..b", false},
		{"../etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"/", false},
		{"a\x00b", false},
		{"tab\there", false},
		{"caf\xc3\xa9", false},
		{"del\x7f", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, does not wrap ErrInvalidName", tt.name, err)
		}
	}
}

func TestFileName(t *testing.T) {
	tests := []struct{ name, file string }{
		{"00000000000000000001-00000000000000000042-ab12", "00000000000000000001-00000000000000000042-ab12"},
		{"a_b.c-d", "a_b.c-d"},
		{"AB", "%41%42"},
		{"x~y", "x%7ey"},
		{"~", "%7e"},
		{"50%", "50%25"},
		{"a b", "a%20b"},
		{".tmp", ".tmp"},
	}
	for _, tt := range tests {
		if got := fileName(tt.name); got != tt.file {
			t.Errorf("fileName(%q) = %q, want %q", tt.name, got, tt.file)
		}
		if got, ok := parseFileName(tt.file); !ok || got != tt.name {
			t.Errorf("parseFileName(%q) = %q, %v; want %q", tt.file, got, ok, tt.name)
		}
		if strings.HasPrefix(tt.file, tempPrefix) {
			t.Errorf("file name %q looks like a temporary file", tt.file)
		}
	}
}

func TestParseFileNameRejects(t *testing.T) {
	for _, fn := range []string{
		"",          // empty
		"AB",        // upper case is always escaped: not a file the cache wrote
		"%61",       // 'a' needs no escape: not canonical
		"%4",        // truncated escape
		"%",         // truncated escape
		"%zz",       // not hex
		"%4A",       // upper-case hex digit: not canonical
		"~x.tmp",    // temporary file
		"a%2fb",     // decodes to a path separator
		"%2e%2e",    // decodes to ".."
		"x%00",      // decodes to NUL
		"caf\u00e9", // not ASCII
		"with space",
	} {
		if name, ok := parseFileName(fn); ok {
			t.Errorf("parseFileName(%q) = %q, true; want false", fn, name)
		}
	}
}

// FuzzParseFileName checks that parsing any directory entry's name never panics, and that
// whatever it accepts round-trips.
func FuzzParseFileName(f *testing.F) {
	for _, s := range []string{"abc", "%41", "%4", "~1.tmp", "a%2fb", "0001-0002-ff", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, fn string) {
		name, ok := parseFileName(fn)
		if !ok {
			return
		}
		if err := ValidateName(name); err != nil {
			t.Fatalf("parseFileName(%q) accepted invalid %q: %v", fn, name, err)
		}
		if fileName(name) != fn {
			t.Fatalf("parseFileName(%q) = %q, which maps back to %q", fn, name, fileName(name))
		}
		if strings.HasPrefix(fn, tempPrefix) || strings.ContainsAny(fn, `/\`) {
			t.Fatalf("accepted file name %q", fn)
		}
	})
}

// FuzzFileName checks that every valid name maps to a distinct, safe file name.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"abc", "ABC", "a b", "~", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		fn := fileName(name)
		if len(fn) > maxFileNameLen || strings.ContainsAny(fn, `/\`) || fn == "." || fn == ".." || strings.HasPrefix(fn, tempPrefix) {
			t.Fatalf("fileName(%q) = %q is unsafe", name, fn)
		}
		if fn != strings.ToLower(fn) {
			t.Fatalf("fileName(%q) = %q has upper case", name, fn)
		}
		if back, ok := parseFileName(fn); !ok || back != name {
			t.Fatalf("round trip of %q: %q, %v", name, back, ok)
		}
	})
}
