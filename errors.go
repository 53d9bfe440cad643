package isledb

import (
	"errors"

	"github.com/isledb/isledb/internal/base"
)

var (
	// ErrBackpressure reports that the writer has MaxImmutableMemtables memtables waiting
	// to be flushed; the write was not accepted. Retry after a delay, or call Flush.
	ErrBackpressure = errors.New("isledb: writer backpressure: too many memtables waiting to flush")

	// ErrClosed reports use of a closed DB, Writer, Reader or Iterator.
	ErrClosed = errors.New("isledb: closed")

	// ErrEmptyKey reports a write with an empty key.
	ErrEmptyKey = errors.New("isledb: empty key")

	// ErrKeyTooLarge reports a key longer than ValueStorage.MaxKeySize.
	ErrKeyTooLarge = errors.New("isledb: key too large")

	// ErrValueTooLarge reports a value longer than ValueStorage.MaxValueSize.
	ErrValueTooLarge = errors.New("isledb: value too large")

	// ErrInvalidTTL reports a TTL that is zero or negative.
	ErrInvalidTTL = errors.New("isledb: invalid TTL")

	// ErrInvalidOptions reports options that fail validation; the message lists every
	// problem.
	ErrInvalidOptions = errors.New("isledb: invalid options")

	// ErrWriterFailed reports that the writer stopped after an error it cannot recover
	// from (for example: it was fenced); the error wraps the cause.
	ErrWriterFailed = errors.New("isledb: writer failed")

	// ErrWALStale reports that OpenWriter found, in WriterOptions.WALDir, unpublished
	// writes of a superseded writer that it cannot judge: the manifest no longer records
	// how that writer's tenure ended (see manifest.WriterTenure), or a later writer may
	// have deleted the key and compaction dropped the tombstone. Replaying them could
	// shadow newer writes and dropping them could lose acknowledged ones. The log is left
	// as it was; WriterOptions.DiscardUnresolvedWAL opens the writer anyway, dropping them.
	ErrWALStale = errors.New("isledb: write-ahead log holds writes of a superseded writer that cannot be judged")

	// ErrCorruption reports data that failed a checksum, a signature or a format check.
	// It is the same sentinel every IsleDB package wraps, so errors.Is matches corruption
	// found anywhere (SST, manifest, blob).
	ErrCorruption = base.ErrCorruption
)
