package kv

import (
	"errors"
	"fmt"
	"strings"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/wal"
)

// Errors returned by the store. Test with errors.Is: they are wrapped with context.
var (
	// ErrKeyNotFound reports a Get of a key that was never written or was deleted.
	ErrKeyNotFound = errors.New("kv: key not found")
	// ErrStoreClosed reports use of a closed Store.
	ErrStoreClosed = errors.New("kv: store is closed")
	// ErrInvalidValue reports a value that cannot be stored (an unknown ValueType) or bytes
	// that do not decode as a value.
	ErrInvalidValue = errors.New("kv: invalid value encoding")
	// ErrCorruptedData reports stored data that failed a check: a checksum, a format check,
	// a manifest naming a missing SST. Every ErrChecksumMismatch is also an
	// ErrCorruptedData.
	ErrCorruptedData = errors.New("kv: corrupted data")
	// ErrChecksumMismatch reports stored bytes whose checksum (a block's CRC, an SST's
	// SHA-256, a WAL record's CRC) differs from the one recorded.
	ErrChecksumMismatch = errors.New("kv: checksum mismatch")
	// ErrTypeMismatch reports a typed Get (GetInt64, GetString, ...) of a key whose value
	// has another type; the error names both types.
	ErrTypeMismatch = errors.New("kv: value type mismatch")
	// ErrLocked reports an Open of a directory that another Store (in this process or
	// another one) holds open.
	ErrLocked = errors.New("kv: directory locked by another store")
	// ErrInvalidOptions reports Options that fail Validate; the message lists every
	// violation, and errors.As finds an *OptionsError.
	ErrInvalidOptions = errors.New("kv: invalid options")
	// ErrEmptyKey reports a write or read with an empty key.
	ErrEmptyKey = errors.New("kv: empty key")
	// ErrConflict reports a transaction that cannot commit (or read) consistently: a key
	// it wrote (with TxnOptions.Serializable, also a key it read or scanned) was written
	// by another commit after it began. Nothing of it was applied; run it again. The
	// engine's isledb.ErrConflict stays wrapped, so errors.Is matches either.
	ErrConflict = errors.New("kv: transaction conflict")
	// ErrTxnDone reports use of a transaction after Commit or Rollback.
	ErrTxnDone = errors.New("kv: transaction already committed or rolled back")
	// ErrSnapshotClosed reports a read of a Snapshot after its Close.
	ErrSnapshotClosed = errors.New("kv: snapshot is closed")
)

// OptionsError lists every violation Validate found. It matches ErrInvalidOptions.
type OptionsError struct {
	// Violations describe each invalid field, one per entry, naming the field.
	Violations []string
}

// Error lists the violations.
func (e *OptionsError) Error() string {
	return "kv: invalid options: " + strings.Join(e.Violations, "; ")
}

// Is makes an *OptionsError match ErrInvalidOptions.
func (e *OptionsError) Is(target error) bool { return target == ErrInvalidOptions }

// translate wraps an engine error with the store's sentinels: corruption becomes
// ErrCorruptedData (and ErrChecksumMismatch when a checksum failed), a closed engine
// ErrStoreClosed, a transaction conflict ErrConflict. The engine error stays wrapped.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, isledb.ErrCorruption) || errors.Is(err, wal.ErrCorruption):
		if isChecksumError(err) {
			return fmt.Errorf("kv: %s: %w: %w: %w", op, ErrCorruptedData, ErrChecksumMismatch, err)
		}
		return fmt.Errorf("kv: %s: %w: %w", op, ErrCorruptedData, err)
	case errors.Is(err, isledb.ErrClosed):
		return fmt.Errorf("kv: %s: %w: %w", op, ErrStoreClosed, err)
	case errors.Is(err, isledb.ErrEmptyKey):
		return fmt.Errorf("kv: %s: %w: %w", op, ErrEmptyKey, err)
	case errors.Is(err, isledb.ErrConflict):
		return fmt.Errorf("kv: %s: %w: %w", op, ErrConflict, err)
	case errors.Is(err, isledb.ErrTxnDone):
		return fmt.Errorf("kv: %s: %w: %w", op, ErrTxnDone, err)
	}
	return fmt.Errorf("kv: %s: %w", op, err)
}

// isChecksumError reports whether a corruption error is a checksum failure: a WAL CRC
// mismatch, or an SST whose block CRC, footer CRC or whole-file SHA-256 did not match
// (the engine reports those as corruption errors whose reason says so).
func isChecksumError(err error) bool {
	if errors.Is(err, wal.ErrCRCMismatch) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "checksum mismatch") || strings.Contains(msg, "does not match the manifest")
}
