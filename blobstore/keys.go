package blobstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLength is the longest key (prefix included) a Store accepts, in bytes. S3, GCS and
// Azure all accept 1024 bytes.
const MaxKeyLength = 1024

// ValidateKey reports whether key is a valid object key: see the package doc. The error
// wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	return validatePath(key, "key")
}

// validatePrefix accepts "" (no prefix) and otherwise the same as a key; one trailing
// slash is allowed and ignored.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return validatePath(strings.TrimSuffix(prefix, "/"), "prefix")
}

func validatePath(p, what string) error {
	if len(p) > MaxKeyLength {
		return fmt.Errorf("%w: %s is %d bytes, more than %d", ErrKeyTooLong, what, len(p), MaxKeyLength)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalidKey, what, p)
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("%w: %s %q holds a control character", ErrInvalidKey, what, p)
		case r == '\\' || r == '"' || r == '#' || r == '%' || r == '?':
			return fmt.Errorf("%w: %s %q holds %q, which is not allowed", ErrInvalidKey, what, p, r)
		}
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: %s %q is absolute", ErrInvalidKey, what, p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: %s %q has an empty segment", ErrInvalidKey, what, p)
		case ".", "..":
			return fmt.Errorf("%w: %s %q has a %q segment", ErrInvalidKey, what, p, seg)
		}
	}
	return nil
}
