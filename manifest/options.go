package manifest

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// StoreOptions tune a Store. The zero value is valid: every field takes its default.
type StoreOptions struct {
	// SnapshotEvery is how many log entries may follow the newest snapshot before an
	// appender writes a new one (right after its append, inline). Default: 100. Negative:
	// never snapshot automatically (call WriteSnapshot yourself).
	SnapshotEvery int

	// PruneGrace is how long a snapshot must have existed before the log entries and older
	// snapshots it supersedes are deleted, so that readers in the middle of a replay are
	// not pulled from under. Default: 10 minutes. Negative: prune at once (tests).
	//
	// It also bounds how long a reader trusts a "nothing new" answer without re-listing the
	// snapshots (half of it), and how long after it last knew the end of the log an
	// appender may confirm an entry without listing them (half of it, see
	// ConfirmEveryAppend); both assume that the clocks of the processes and of the storage
	// differ by less than half of it, and that every Store pruning the bucket uses at least
	// this grace.
	PruneGrace time.Duration

	// ConfirmEveryAppend makes every append list the snapshots after its entry lands, to
	// prove its log slot was never pruned (what every append did before the fast path).
	// Default: false: an append made within PruneGrace/2 of the Store's last confirmed
	// knowledge of the log's end is confirmed without a request (confirm.go argues why;
	// it assumes every process pruning the bucket uses at least this PruneGrace, and
	// clocks within PruneGrace/2). Set it when that cannot be promised.
	ConfirmEveryAppend bool

	// DisableAutoPrune stops appenders from pruning after they write a snapshot. Default:
	// false (prune automatically). Call Prune yourself when set.
	DisableAutoPrune bool

	// ReadAhead is the most log entries a replay fetches concurrently. Default: 16.
	ReadAhead int

	// MaxAppendAttempts bounds how many times one append is retried after losing a race
	// for its log slot before it fails with ErrConflict. Default: 1000.
	MaxAppendAttempts int

	// Clock returns the current time, for entry timestamps, fence claims and the prune
	// grace. Default: time.Now.
	Clock func() time.Time

	// OnBackgroundError is called with the error of an automatic snapshot or prune (the
	// append that triggered it succeeded regardless). Default: log it at warning level
	// through Logger.
	OnBackgroundError func(error)

	// Logger receives the Store's structured logs. Default: a logger that discards.
	Logger *slog.Logger
}

// Defaults of StoreOptions.
const (
	DefaultSnapshotEvery     = 100
	DefaultPruneGrace        = 10 * time.Minute
	DefaultReadAhead         = 16
	DefaultMaxAppendAttempts = 1000
)

// EnsureDefaults fills every zero field with its default and returns o.
func (o *StoreOptions) EnsureDefaults() *StoreOptions {
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = DefaultSnapshotEvery
	}
	if o.PruneGrace == 0 {
		o.PruneGrace = DefaultPruneGrace
	}
	if o.ReadAhead == 0 {
		o.ReadAhead = DefaultReadAhead
	}
	if o.MaxAppendAttempts == 0 {
		o.MaxAppendAttempts = DefaultMaxAppendAttempts
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnBackgroundError == nil {
		logger := o.Logger
		o.OnBackgroundError = func(err error) {
			logger.Warn("manifest: background snapshot or prune failed", "err", err)
		}
	}
	return o
}

// Validate reports every invalid field at once, in an error wrapping ErrInvalidOptions.
func (o *StoreOptions) Validate() error {
	var errs []error
	if o.ReadAhead < 1 || o.ReadAhead > 1024 {
		errs = append(errs, fmt.Errorf("ReadAhead %d not in [1, 1024]", o.ReadAhead))
	}
	if o.MaxAppendAttempts < 1 {
		errs = append(errs, fmt.Errorf("MaxAppendAttempts %d < 1", o.MaxAppendAttempts))
	}
	if o.Clock == nil {
		errs = append(errs, errors.New("Clock is nil"))
	}
	if o.Logger == nil {
		errs = append(errs, errors.New("Logger is nil"))
	}
	if o.OnBackgroundError == nil {
		errs = append(errs, errors.New("OnBackgroundError is nil"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	return nil
}

// trustWindow is how long after a listing of the snapshots a reader may take a missing
// log entry for the end of the log (see docs/format.md ("Manifest log and snapshots")); 0 when pruning has no
// grace.
func (o *StoreOptions) trustWindow() time.Duration {
	if o.PruneGrace <= 0 {
		return 0
	}
	return o.PruneGrace / 2
}
