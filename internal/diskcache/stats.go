package diskcache

import "fmt"

// Stats describes a Cache's activity since Open (the counters) and its present content (the
// gauges Bytes, Items and Capacity).
type Stats struct {
	// Hits counts Get, ReadAll, GetOrFetch and OpenOrFetch calls that found their item.
	Hits int64
	// Misses counts those that did not (a GetOrFetch miss counts once per look, so a caller
	// that waits on another's fetch and then reads the stored item counts a hit too).
	Misses int64
	// Puts counts items stored by Put, including those already held.
	Puts int64
	// Evictions counts items removed to make room, at Open or by Put.
	Evictions int64
	// Rejected counts Puts refused with ErrTooLarge.
	Rejected int64
	// PutErrors counts Puts that failed to write or rename their file (a full disk, say).
	PutErrors int64
	// Fetches counts calls of a fetch function by GetOrFetch and OpenOrFetch.
	Fetches int64
	// Bytes is the size of the items held.
	Bytes int64
	// Items is the number of items held.
	Items int64
	// Capacity is Options.Capacity.
	Capacity int64
}

// HitRate returns Hits / (Hits + Misses), or 0 before any lookup.
func (s Stats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// String formats the stats on one line, for logs and the CLI.
func (s Stats) String() string {
	return fmt.Sprintf("items=%d bytes=%s/%s hits=%d misses=%d hit-rate=%.1f%% puts=%d evictions=%d rejected=%d put-errors=%d fetches=%d",
		s.Items, humanBytes(s.Bytes), humanBytes(s.Capacity), s.Hits, s.Misses, 100*s.HitRate(),
		s.Puts, s.Evictions, s.Rejected, s.PutErrors, s.Fetches)
}

// humanBytes formats n with a binary unit: "512B", "1.5KiB", "1.0GiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
