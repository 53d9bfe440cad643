package mergeiter

import "errors"

// Errors returned by this package. An entry of unknown kind is reported as a
// *base.CorruptionError, which matches base.ErrCorruption under errors.Is.
var (
	// ErrInvalidOptions is wrapped by every options validation error. New does not return
	// an error: an Iterator built with invalid options reports it from Err and Close, and
	// never becomes valid.
	ErrInvalidOptions = errors.New("mergeiter: invalid options")
)
