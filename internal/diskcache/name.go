package diskcache

import (
	"fmt"
	"strings"
)

// MaxNameLen is the longest name, in bytes, the cache accepts.
const MaxNameLen = 200

const (
	// maxFileNameLen is the longest file name most file systems allow (NAME_MAX).
	maxFileNameLen = 255
	// tempPrefix starts the name of every temporary file. '~' is escaped in encoded names,
	// so no item's file can start with it.
	tempPrefix = "~"
	// tempSuffix ends the name of every temporary file.
	tempSuffix = ".tmp"
	hexDigits  = "0123456789abcdef"
)

// File names
//
// An item's file name is its name with every byte outside [a-z0-9._-] written as '%' and
// two lowercase hex digits: "ab12-Z~" is stored as "ab12-%5a%7e". Upper-case letters are
// escaped so that names differing only in case stay distinct on case-insensitive file
// systems (macOS, Windows). SST ids and hex digests, the names the engine uses, are stored
// unchanged. Temporary files are named "~<random>.tmp"; since '~' is always escaped, they
// never collide with an item's file.

// plain reports whether byte b is stored unescaped in a file name.
func plain(b byte) bool {
	return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-'
}

// ValidateName reports whether name can be stored, with an error wrapping ErrInvalidName if
// not. A valid name is 1 to MaxNameLen bytes of printable ASCII (0x20 to 0x7e) without '/'
// or '\', is not ".", does not contain "..", and still fits in a file name once escaped (see
// above, at most 255 bytes: true of every name of up to 85 bytes, and of a 200-byte name
// with at most 27 escaped bytes).
func ValidateName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "empty"
	case len(name) > MaxNameLen:
		reason = fmt.Sprintf("%d bytes, more than %d", len(name), MaxNameLen)
	case name == ".":
		reason = `"." names the directory`
	case strings.Contains(name, ".."):
		reason = `contains ".."`
	}
	escaped := 0
	for i := 0; i < len(name) && reason == ""; i++ {
		switch b := name[i]; {
		case b == '/' || b == '\\':
			reason = fmt.Sprintf("path separator %q at byte %d", b, i)
		case b < 0x20 || b > 0x7e:
			reason = fmt.Sprintf("byte %#x at %d is not printable ASCII", b, i)
		case !plain(b):
			escaped++
		}
	}
	if reason == "" && len(name)+2*escaped > maxFileNameLen {
		reason = fmt.Sprintf("escaped file name would be %d bytes, more than %d", len(name)+2*escaped, maxFileNameLen)
	}
	if reason == "" {
		return nil
	}
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidName, name, reason)
}

// fileName returns the file name of a valid name.
func fileName(name string) string {
	n := len(name)
	for i := 0; i < len(name); i++ {
		if !plain(name[i]) {
			n += 2
		}
	}
	if n == len(name) {
		return name
	}
	var sb strings.Builder
	sb.Grow(n)
	for i := 0; i < len(name); i++ {
		b := name[i]
		if plain(b) {
			sb.WriteByte(b)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexDigits[b>>4])
		sb.WriteByte(hexDigits[b&15])
	}
	return sb.String()
}

// parseFileName returns the name stored in file fn. It reports false for a file the cache
// did not write: one whose name is not the canonical escaping of a valid name.
func parseFileName(fn string) (string, bool) {
	if !strings.Contains(fn, "%") {
		return fn, ValidateName(fn) == nil && fileName(fn) == fn
	}
	var sb strings.Builder
	for i := 0; i < len(fn); i++ {
		if fn[i] != '%' {
			sb.WriteByte(fn[i])
			continue
		}
		if i+2 >= len(fn) {
			return "", false
		}
		hi, lo := strings.IndexByte(hexDigits, fn[i+1]), strings.IndexByte(hexDigits, fn[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		sb.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	name := sb.String()
	return name, ValidateName(name) == nil && fileName(name) == fn
}
