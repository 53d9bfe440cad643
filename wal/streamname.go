package wal

import (
	"strings"
	"unicode/utf8"
)

// ValidateStreamName reports whether name can name a stream, returning an
// *InvalidStreamNameError (which matches ErrInvalidStreamName) if not. A stream is a directory
// directly under RootPath, so its name must be a single, ordinary path element: not empty, at
// most MaxStreamNameLen bytes of valid UTF-8, not starting with "." (which also rules out "."
// and ".."; such names are reserved for the WAL's own files), and free of "/", "\", ":", NUL
// and other control characters. Absolute paths and drive letters are rejected by these rules.
func ValidateStreamName(name string) error {
	bad := func(reason string) error { return &InvalidStreamNameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > MaxStreamNameLen:
		return bad("longer than 255 bytes")
	case name[0] == '.':
		return bad(`starts with "." (reserved)`)
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case strings.ContainsAny(name, `/\:`):
		return bad(`contains "/", "\" or ":"`)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return bad("contains a control character or NUL")
		}
	}
	return nil
}
