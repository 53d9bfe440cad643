package manifest

import (
	"fmt"
	"sync/atomic"
)

// StoreStats counts what a Store did since it was made. The object-store requests behind
// them are counted by the blob store (blobstore.Store.Stats).
type StoreStats struct {
	Appends         int64 // entries appended and acknowledged, claims included
	FastConfirms    int64 // of them, confirmed by the age of the Store's knowledge of the log instead of a listing
	Claims          int64 // fence claims won
	LostRaces       int64 // attempts that found their log slot taken
	Strays          int64 // entries that landed in a pruned slot and were refused
	Uncertain       int64 // appends that ended with ErrUncertain
	Fenced          int64 // appends and checks that ended with ErrFenced
	Loads           int64 // full replays (newest snapshot plus the entries after it)
	Resyncs         int64 // reloads from a newer snapshot when the log was pruned under a read
	EntriesRead     int64 // log entries read and applied
	Snapshots       int64 // snapshots written
	PrunedEntries   int64 // log entries deleted by this Store's prunes
	PrunedSnapshots int64 // snapshots deleted by this Store's prunes
}

// String formats the counts on one line.
func (s StoreStats) String() string {
	return fmt.Sprintf("appends %d (claims %d, fast-confirmed %d), lost races %d, strays %d, uncertain %d, fenced %d; loads %d, resyncs %d, entries read %d; snapshots %d, pruned %d entries and %d snapshots",
		s.Appends, s.Claims, s.FastConfirms, s.LostRaces, s.Strays, s.Uncertain, s.Fenced, s.Loads, s.Resyncs,
		s.EntriesRead, s.Snapshots, s.PrunedEntries, s.PrunedSnapshots)
}

// storeCounters is the live form of StoreStats.
type storeCounters struct {
	appends, claims, fastConfirms, lostRaces, strays, uncertain, fenced atomic.Int64
	loads, resyncs, entriesRead                                         atomic.Int64
	snapshots, prunedEntries, prunedSnapshots                           atomic.Int64
}

// Stats returns the Store's counters.
func (s *Store) Stats() StoreStats {
	c := &s.counters
	return StoreStats{
		Appends: c.appends.Load(), FastConfirms: c.fastConfirms.Load(), Claims: c.claims.Load(), LostRaces: c.lostRaces.Load(),
		Strays: c.strays.Load(), Uncertain: c.uncertain.Load(), Fenced: c.fenced.Load(),
		Loads: c.loads.Load(), Resyncs: c.resyncs.Load(), EntriesRead: c.entriesRead.Load(),
		Snapshots: c.snapshots.Load(), PrunedEntries: c.prunedEntries.Load(),
		PrunedSnapshots: c.prunedSnapshots.Load(),
	}
}
