package base

import (
	"errors"
	"fmt"
)

// ErrCorruption marks every error caused by bytes that do not decode as they must: a bad
// checksum, a truncated object, an impossible length. Test with errors.Is(err, ErrCorruption).
// Corruption is never retried: the same bytes will fail the same way.
var ErrCorruption = errors.New("isledb: corruption")

// CorruptionError is the typed form of ErrCorruption. It names the object (file or bucket
// key) and the byte offset at which the damage was found, so that an operator can look at it.
type CorruptionError struct {
	// Object is the name of the damaged object; empty if the reader was not told a name.
	Object string
	// Offset is the byte offset of the damaged structure within Object; -1 if unknown.
	Offset int64
	// Reason says what was wrong, for humans.
	Reason string
	// Err is the underlying cause (for example a decompressor's error), or nil.
	Err error
}

// Error formats the error as "isledb: corruption in <object> at offset <n>: <reason>: <cause>".
func (e *CorruptionError) Error() string {
	obj := e.Object
	if obj == "" {
		obj = "<unnamed>"
	}
	s := fmt.Sprintf("%v in %s", ErrCorruption, obj)
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at offset %d", e.Offset)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrCorruption) true for every *CorruptionError.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorruption }

// Unwrap returns the underlying cause, if any.
func (e *CorruptionError) Unwrap() error { return e.Err }

// CorruptionErrorf returns a *CorruptionError for object at offset with a formatted reason.
func CorruptionErrorf(object string, offset int64, format string, args ...any) error {
	return &CorruptionError{Object: object, Offset: offset, Reason: fmt.Sprintf(format, args...)}
}

// IsCorruption reports whether err is, or wraps, a corruption error.
func IsCorruption(err error) bool { return errors.Is(err, ErrCorruption) }
