package manifest

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// WriteSnapshot writes a snapshot of m at its position m.LogSeq and returns its name
// ("manifest/snapshot/<seq:020d>"). m must be a manifest this package produced, unmodified:
// WriteSnapshot checks that it matches the log at m.LogSeq (from the Store's state, or by
// reading that entry) and fails with ErrInvalidSnapshot otherwise. A snapshot of that
// position that already exists is kept (snapshots of one position are identical), and its
// name returned.
//
// Writing a snapshot never needs a fence: its content follows from the log.
func (s *Store) WriteSnapshot(ctx context.Context, m *Manifest) (string, error) {
	if m == nil || m.LogSeq == 0 {
		return "", fmt.Errorf("%w: nothing to snapshot at position 0", ErrInvalidSnapshot)
	}
	if st := s.state(); st == nil || st.LogSeq != m.LogSeq || st.chain != m.chain {
		data, err := s.storage.ReadLogEntry(ctx, Seq(m.LogSeq))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("%w: log entry %d does not exist (pruned, or never written)", ErrInvalidSnapshot, m.LogSeq)
		}
		if err != nil {
			return "", fmt.Errorf("manifest: write snapshot: %w", err)
		}
		if entryHash(data) != m.chain {
			return "", fmt.Errorf("%w: log entry %d is not the one the manifest was built from", ErrInvalidSnapshot, m.LogSeq)
		}
	}
	return s.writeSnapshot(ctx, m)
}

func (s *Store) writeSnapshot(ctx context.Context, m *Manifest) (string, error) {
	seq := Seq(m.LogSeq)
	err := s.storage.CreateSnapshot(ctx, seq, encodeSnapshot(m))
	if err == nil {
		s.counters.snapshots.Add(1)
	}
	if err != nil && !errors.Is(err, ErrConflict) {
		// The outcome is unknown; any snapshot of this position will do, ours or not.
		if _, rerr := s.storage.ReadSnapshot(ctx, seq); rerr != nil {
			return "", fmt.Errorf("manifest: write snapshot %d: %w", seq, err)
		}
	}
	s.mu.Lock()
	s.mu.ownSnap = max(s.mu.ownSnap, seq)
	s.mu.Unlock()
	return SnapshotKey(seq), nil
}

// autoSnapshot writes the snapshot an appender owes and prunes, reporting failures to
// OnBackgroundError (the append succeeded regardless). snaps is the listing the append
// confirmed itself with.
func (s *Store) autoSnapshot(ctx context.Context, m *Manifest, snaps []SnapshotInfo) {
	if _, err := s.writeSnapshot(ctx, m); err != nil {
		s.opts.OnBackgroundError(err)
		return
	}
	if s.opts.DisableAutoPrune {
		return
	}
	snaps = append(slices.Clone(snaps), SnapshotInfo{Seq: Seq(m.LogSeq), CreatedAt: s.opts.Clock()})
	if _, err := s.prune(ctx, snaps); err != nil {
		s.opts.OnBackgroundError(err)
	}
}

// PruneStats reports what a Prune deleted.
type PruneStats struct {
	// Through is the snapshot position pruned up to: entries below it and older snapshots
	// are gone. 0 if no snapshot was old enough.
	Through Seq
	// LogEntries is how many log entries were deleted.
	LogEntries int
	// Snapshots is how many snapshots were deleted.
	Snapshots int
}

// Prune deletes what the newest snapshot older than PruneGrace supersedes: the log entries
// below its position and the older snapshots. The snapshot's own entry is kept, so the log
// never loses its last entry (docs/format.md ("Manifest log and snapshots") explains why this matters). Prune
// needs no fence and may run anywhere, concurrently with anything.
func (s *Store) Prune(ctx context.Context) (PruneStats, error) {
	snaps, err := s.storage.ListSnapshots(ctx)
	if err != nil {
		return PruneStats{}, fmt.Errorf("manifest: prune: %w", err)
	}
	return s.prune(ctx, snaps)
}

func (s *Store) prune(ctx context.Context, snaps []SnapshotInfo) (PruneStats, error) {
	var st PruneStats
	cutoff := s.opts.Clock().Add(-s.opts.PruneGrace)
	for _, sn := range snaps {
		if s.opts.PruneGrace < 0 || !sn.CreatedAt.After(cutoff) {
			st.Through = max(st.Through, sn.Seq)
		}
	}
	if st.Through == 0 {
		return st, nil
	}
	var older []Seq
	for _, sn := range snaps {
		if sn.Seq < st.Through {
			older = append(older, sn.Seq)
		}
	}
	s.mu.Lock()
	done := s.mu.prunedThrough >= st.Through
	s.mu.Unlock()
	if done && len(older) == 0 {
		return st, nil
	}
	// Entries first, then the snapshots: a deleted slot must stay covered by a snapshot.
	entries, err := s.storage.ListLogEntries(ctx, st.Through)
	if err != nil {
		return st, fmt.Errorf("manifest: prune: list log: %w", err)
	}
	if len(entries) > 0 {
		if err := s.storage.DeleteLogEntries(ctx, entries); err != nil {
			return st, fmt.Errorf("manifest: prune: delete log entries: %w", err)
		}
	}
	st.LogEntries = len(entries)
	if len(older) > 0 {
		if err := s.storage.DeleteSnapshots(ctx, older); err != nil {
			return st, fmt.Errorf("manifest: prune: delete snapshots: %w", err)
		}
	}
	st.Snapshots = len(older)
	s.counters.prunedEntries.Add(int64(st.LogEntries))
	s.counters.prunedSnapshots.Add(int64(st.Snapshots))
	s.mu.Lock()
	s.mu.prunedThrough = max(s.mu.prunedThrough, st.Through)
	s.mu.Unlock()
	s.opts.Logger.Debug("manifest: pruned", "through", uint64(st.Through), "entries", st.LogEntries, "snapshots", st.Snapshots)
	return st, nil
}
