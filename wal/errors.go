package wal

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by this package either is one of these or wraps one of
// them (or wraps an error of the standard library, such as context cancellation), so callers
// can test with errors.Is. The typed errors below carry details and are reached with errors.As.
var (
	// ErrIO marks a failed file-system operation. The underlying *fs.PathError (or similar)
	// is wrapped too, so errors.Is(err, fs.ErrNotExist) keeps working.
	ErrIO = errors.New("wal: I/O error")
	// ErrCorruption marks bytes on disk that do not decode: a bad header, a torn or garbled
	// record, a checksum mismatch. The detailed error is a *CorruptionError or a
	// *CRCMismatchError.
	ErrCorruption = errors.New("wal: corruption")
	// ErrCRCMismatch marks a record whose stored CRC-32C differs from the computed one. It is
	// also an ErrCorruption. The detailed error is a *CRCMismatchError.
	ErrCRCMismatch = errors.New("wal: CRC mismatch")
	// ErrMidLogCorruption marks damage in a stream's active segment that records passing
	// their checksums follow: not a torn tail, as a crash mid-append leaves, but damage to
	// records written before others. Open reports it under OnCorruptionTruncateTornTail. It
	// is also an ErrCorruption. The detailed error is a *MidLogCorruptionError.
	ErrMidLogCorruption = errors.New("wal: corruption followed by valid records")
	// ErrConfig marks invalid Options. The detailed error is a *ConfigError listing every
	// problem at once.
	ErrConfig = errors.New("wal: invalid configuration")
	// ErrSegmentNotFound means a segment file the index expected is gone, typically because a
	// concurrent Truncate deleted it.
	ErrSegmentNotFound = errors.New("wal: segment not found")
	// ErrStreamNotFound means the named stream has never been written to.
	ErrStreamNotFound = errors.New("wal: stream not found")
	// ErrInvalidFilename means a file in a stream directory is named like a segment but its
	// name does not parse, or its header disagrees with its name.
	ErrInvalidFilename = errors.New("wal: invalid filename")
	// ErrInvalidStreamName means a stream name was rejected; see ValidateStreamName. The
	// detailed error is an *InvalidStreamNameError.
	ErrInvalidStreamName = errors.New("wal: invalid stream name")
	// ErrNotFound means the requested sequence number is not in the stream: it was never
	// assigned, or its segment was removed by Truncate.
	ErrNotFound = errors.New("wal: entry not found")
	// ErrEntryTooLarge means an entry exceeds MaxEntrySize, or a batch is too large to fit
	// in one segment.
	ErrEntryTooLarge = errors.New("wal: entry too large")
	// ErrClosed means the WAL (or the iterator) was closed.
	ErrClosed = errors.New("wal: closed")
	// ErrLocked means another process holds the root directory's lock file.
	ErrLocked = errors.New("wal: root directory is locked by another process")

	// ErrCheckpointNotFound means no checkpoint has the requested user ID.
	ErrCheckpointNotFound = errors.New("wal: checkpoint not found")
	// ErrCheckpointCorrupted marks a checkpoint file that does not decode. The detailed error
	// is a *CheckpointCorruptedError.
	ErrCheckpointCorrupted = errors.New("wal: checkpoint corrupted")
	// ErrShardCountMismatch means stored state was written with another shard count. The
	// detailed error is a *ShardCountMismatchError.
	ErrShardCountMismatch = errors.New("wal: shard count mismatch")
	// ErrInvalidCheckpointID means a checkpoint user ID is empty or longer than
	// MaxCheckpointIDLen bytes.
	ErrInvalidCheckpointID = errors.New("wal: invalid checkpoint id")
	// ErrNoCheckpoints means LoadLatestCheckpoint found no checkpoint at all.
	ErrNoCheckpoints = errors.New("wal: no checkpoints")
	// ErrInvalidShard means a shard index is not below ShardCount, or a shard count is zero.
	ErrInvalidShard = errors.New("wal: invalid shard")
)

var (
	_ error = (*IOError)(nil)
	_ error = (*CorruptionError)(nil)
	_ error = (*CRCMismatchError)(nil)
	_ error = (*ConfigError)(nil)
	_ error = (*MidLogCorruptionError)(nil)
	_ error = (*InvalidStreamNameError)(nil)
	_ error = (*CheckpointCorruptedError)(nil)
	_ error = (*ShardCountMismatchError)(nil)
)

// IOError is a failed file-system operation. It matches ErrIO and unwraps to the error of the
// operating system.
type IOError struct {
	Op   string // what the WAL was doing, such as "fsync" or "create segment"
	Path string // the file or directory involved
	Err  error  // the underlying error
}

// Error describes the failure.
func (e *IOError) Error() string {
	return fmt.Sprintf("wal: I/O error: %s %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *IOError) Unwrap() error { return e.Err }

// Is reports whether target is ErrIO.
func (e *IOError) Is(target error) bool { return target == ErrIO }

// ioErr wraps err as an *IOError, or returns nil when err is nil.
func ioErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &IOError{Op: op, Path: path, Err: err}
}

// CorruptionError describes bytes that do not decode. It matches ErrCorruption.
type CorruptionError struct {
	Path   string // the file, when known
	Offset int64  // byte offset of the first bad byte (of the record or header holding it)
	Reason string // what was wrong, such as "truncated record"
}

// Error describes the failure.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corruption in %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// Is reports whether target is ErrCorruption.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorruption }

// CRCMismatchError is a record whose checksum does not match. It matches both ErrCRCMismatch
// and ErrCorruption.
type CRCMismatchError struct {
	Path     string // the segment file
	Offset   int64  // byte offset of the record
	Expected uint32 // the CRC-32C stored in the record
	Actual   uint32 // the CRC-32C computed over the bytes read
}

// Error describes the failure.
func (e *CRCMismatchError) Error() string {
	return fmt.Sprintf("wal: CRC mismatch in %s at offset %d: stored %#08x, computed %#08x",
		e.Path, e.Offset, e.Expected, e.Actual)
}

// Is reports whether target is ErrCRCMismatch or ErrCorruption.
func (e *CRCMismatchError) Is(target error) bool {
	return target == ErrCRCMismatch || target == ErrCorruption
}

// MidLogCorruptionError is damage in the active segment of a stream followed by at least
// one record that passes its checksum, so that cutting the segment at the damage (as
// OnCorruptionTruncate does) would drop valid records. It matches ErrMidLogCorruption and
// ErrCorruption, and unwraps to the error describing the first bad record (a
// *CorruptionError or *CRCMismatchError, which then also matches ErrCRCMismatch).
type MidLogCorruptionError struct {
	Stream string // the stream
	Path   string // the segment file
	Offset int64  // byte offset of the first bad record (0: the segment header)
	ID     SeqNum // sequence number of the first bad record
	// ValidOffset and ValidID locate the first record after the damage that passes its
	// checksum (and is followed by another valid record or by the end of the data).
	// ValidOffset is -1 when the search for one gave up: the damaged region was too large to
	// search, so valid records after it cannot be ruled out.
	ValidOffset int64
	ValidID     SeqNum
	Err         error // the first bad record (or header): *CorruptionError or *CRCMismatchError
}

// Error describes the failure.
func (e *MidLogCorruptionError) Error() string {
	after := fmt.Sprintf("a valid record follows at offset %d (sequence number %d)", e.ValidOffset, e.ValidID)
	if e.ValidOffset < 0 {
		after = "the damaged region is too large to search for valid records after it"
	}
	return fmt.Sprintf("wal: stream %q: corruption in the middle of the log, not a torn tail: %s at offset %d (sequence number %d), and %s: %v",
		e.Stream, e.Path, e.Offset, e.ID, after, e.Err)
}

// Unwrap returns the error describing the first bad record.
func (e *MidLogCorruptionError) Unwrap() error { return e.Err }

// Is reports whether target is ErrMidLogCorruption or ErrCorruption.
func (e *MidLogCorruptionError) Is(target error) bool {
	return target == ErrMidLogCorruption || target == ErrCorruption
}

// ConfigError lists every problem Options.Validate found. It matches ErrConfig.
type ConfigError struct {
	Problems []string
}

// Error describes the failure.
func (e *ConfigError) Error() string {
	return "wal: invalid configuration: " + strings.Join(e.Problems, "; ")
}

// Is reports whether target is ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// InvalidStreamNameError is a rejected stream name. It matches ErrInvalidStreamName.
type InvalidStreamNameError struct {
	Name   string
	Reason string
}

// Error describes the failure.
func (e *InvalidStreamNameError) Error() string {
	return fmt.Sprintf("wal: invalid stream name %q: %s", e.Name, e.Reason)
}

// Is reports whether target is ErrInvalidStreamName.
func (e *InvalidStreamNameError) Is(target error) bool { return target == ErrInvalidStreamName }

// CheckpointCorruptedError is a checkpoint file that does not decode. It matches
// ErrCheckpointCorrupted and ErrCorruption.
type CheckpointCorruptedError struct {
	Path   string
	Offset int64
	Reason string
}

// Error describes the failure.
func (e *CheckpointCorruptedError) Error() string {
	return fmt.Sprintf("wal: checkpoint corrupted: %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// Is reports whether target is ErrCheckpointCorrupted or ErrCorruption.
func (e *CheckpointCorruptedError) Is(target error) bool {
	return target == ErrCheckpointCorrupted || target == ErrCorruption
}

// ShardCountMismatchError reports stored state written with another shard count. It matches
// ErrShardCountMismatch.
type ShardCountMismatchError struct {
	Expected uint16 // the shard count of the running Sharded WAL
	Found    uint16 // the shard count found on disk
}

// Error describes the failure.
func (e *ShardCountMismatchError) Error() string {
	return fmt.Sprintf("wal: shard count mismatch: expected %d, found %d", e.Expected, e.Found)
}

// Is reports whether target is ErrShardCountMismatch.
func (e *ShardCountMismatchError) Is(target error) bool { return target == ErrShardCountMismatch }
