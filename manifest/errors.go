package manifest

import (
	"errors"

	"github.com/isledb/isledb/internal/base"
)

var (
	// ErrFenced reports that the role's fence this Store holds was superseded by a newer
	// claim: the append was not made, and no later append of this Store in that role will
	// be. The condition is permanent for the Store; claim again to get a new epoch.
	ErrFenced = errors.New("manifest: fenced by a newer epoch")

	// ErrFenceConflict reports that a claim lost a race with a concurrent claim of the same
	// role: the other claimer holds the role now.
	ErrFenceConflict = errors.New("manifest: concurrent fence claim")

	// ErrNotClaimed reports an append or fence check of a role this Store never claimed.
	ErrNotClaimed = errors.New("manifest: fence not claimed")

	// ErrConflict reports that a conditional write lost: a log entry or snapshot that
	// already exists (Storage.CreateLogEntry, Storage.CreateSnapshot), a GC state object
	// changed since it was loaded (GCMarkStorage), or an append that kept losing races
	// until it gave up. Errors from the bucket-backed implementations also wrap
	// blobstore.ErrPreconditionFailed.
	ErrConflict = errors.New("manifest: conflict")

	// ErrNotFound reports that a log entry or snapshot does not exist (Storage).
	ErrNotFound = errors.New("manifest: not found")

	// ErrInvalidEdit reports an append whose edit does not fit the manifest: bad SST
	// metadata, a compaction whose inputs are missing or misplaced, a run that overlaps.
	// Nothing was written.
	ErrInvalidEdit = errors.New("manifest: invalid edit")

	// ErrSSTExists reports an added SST whose id is already in the manifest (it also
	// matches ErrInvalidEdit). After an append failed with an uncertain outcome, a retry
	// that meets ErrSSTExists means the first attempt landed.
	ErrSSTExists = errors.New("manifest: sst already in manifest")

	// ErrSSTNotFound reports a removal or compaction input that is not in the manifest
	// (it also matches ErrInvalidEdit).
	ErrSSTNotFound = errors.New("manifest: sst not in manifest")

	// ErrUncertain reports an append whose outcome could not be established: its entry may
	// or may not be part of the log (for example the storage failed while the Store was
	// reading back an entry whose write timed out, or the appender was paused for longer
	// than PruneGrace and more than 1024 entries were appended meanwhile). Treat it like a
	// timeout: replay before acting on the assumption either way.
	ErrUncertain = errors.New("manifest: append outcome unknown")

	// ErrInvalidOptions reports StoreOptions that fail Validate.
	ErrInvalidOptions = errors.New("manifest: invalid options")

	// ErrInvalidSnapshot reports a WriteSnapshot of a manifest that does not match the log
	// at its LogSeq (it was not produced by this package, or was modified).
	ErrInvalidSnapshot = errors.New("manifest: manifest does not match the log")

	// ErrCorruption marks bytes that do not decode as a manifest log entry or snapshot,
	// and logs that break the protocol's invariants. It is the engine-wide corruption
	// sentinel; errors are *base.CorruptionError values naming the object and offset.
	ErrCorruption = base.ErrCorruption
)
