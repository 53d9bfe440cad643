package diskcache

import (
	"errors"
	"fmt"
	"log/slog"
)

// Options configure a Cache.
type Options struct {
	// Capacity is the most bytes of item data the cache keeps on disk; Put evicts the least
	// recently used items to stay within it. Required: no default, must be > 0. (File
	// system overhead, such as partly used blocks, is not counted.)
	Capacity int64
	// MaxItemSize is the largest item Put accepts; larger ones are refused with ErrTooLarge.
	// Default 0: no limit but Capacity. Must not be negative.
	MaxItemSize int64
	// Logger receives the cache's rare complaints (a file that would not go away, a failed
	// write in GetOrFetch). Default nil: a logger that discards everything.
	Logger *slog.Logger
	// OnEvict, when set, is called with the name of each item Put evicts to stay within
	// Capacity, after the cache's lock is released (so it may call the cache). Handles open
	// on an evicted item keep its unlinked file on disk until they are closed: a user that
	// keeps handles open calls them back from here to keep real disk use within Capacity.
	// It is not called for Remove, nor for the items Open drops while adopting a directory.
	OnEvict func(name string)
}

// EnsureDefaults returns a copy of o with every zero field replaced by its default.
func (o Options) EnsureDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports every invalid field at once. Call it after EnsureDefaults.
func (o Options) Validate() error {
	var errs []error
	if o.Capacity <= 0 {
		errs = append(errs, fmt.Errorf("Capacity %d must be > 0", o.Capacity))
	}
	if o.MaxItemSize < 0 {
		errs = append(errs, fmt.Errorf("MaxItemSize %d is negative", o.MaxItemSize))
	}
	if o.Logger == nil {
		errs = append(errs, errors.New("Logger is nil (call EnsureDefaults)"))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}
