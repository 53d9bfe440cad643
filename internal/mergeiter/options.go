package mergeiter

import (
	"errors"
	"fmt"
	"time"
)

// Mode selects which entries an Iterator yields. The zero value is ModeVisible.
type Mode uint8

const (
	// ModeVisible yields, for each user key, its newest entry if that entry is a live value
	// (base.KindValue or base.KindBlobRef, not expired); otherwise the key is skipped.
	ModeVisible Mode = iota
	// ModeNewest yields, for each user key, its newest entry whatever its kind or expiry:
	// tombstones and expired entries included, older versions dropped. For compactions.
	ModeNewest
	// ModeAll yields every entry of every input in internal order, with no filtering.
	ModeAll

	modeCount
)

// String returns "visible", "newest" or "all".
func (m Mode) String() string {
	switch m {
	case ModeVisible:
		return "visible"
	case ModeNewest:
		return "newest"
	case ModeAll:
		return "all"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Options configure an Iterator. The zero value is valid: the visible view of everything,
// with expiry judged against the time of construction.
type Options struct {
	// Lower is the inclusive lower bound on user keys. Default nil: unbounded. The slice is
	// retained: do not modify it while the iterator is in use.
	Lower []byte
	// Upper is the inclusive upper bound on user keys. Default nil: unbounded. A Lower above
	// Upper is valid and gives an empty iterator. The slice is retained, like Lower.
	Upper []byte
	// Now is the time, in unix nanoseconds, against which expiry is judged: an entry with
	// Expiry != 0 && Expiry <= Now has expired. Default 0: time.Now() when New is called.
	// Only ModeVisible looks at it.
	Now int64
	// Mode selects the entries yielded. Default ModeVisible.
	Mode Mode
}

// EnsureDefaults returns a copy of o with every zero field replaced by its default.
func (o Options) EnsureDefaults() Options {
	if o.Now == 0 {
		o.Now = time.Now().UnixNano()
	}
	return o
}

// Validate reports every invalid field at once. Call it after EnsureDefaults.
func (o Options) Validate() error {
	var errs []error
	if o.Now < 0 {
		errs = append(errs, fmt.Errorf("Now %d is negative", o.Now))
	}
	if o.Mode >= modeCount {
		errs = append(errs, fmt.Errorf("unknown Mode %v", o.Mode))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

// Expired reports whether an entry with the given expiry (unix nanoseconds, 0 = never) has
// expired at now. It is the rule ModeVisible applies, exported for callers of ModeNewest.
func Expired(expiry, now int64) bool { return expiry != 0 && expiry <= now }
