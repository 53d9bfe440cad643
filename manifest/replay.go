package manifest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxResyncs bounds how many times one replay starts over from a newer snapshot because
// the log was pruned under it.
const maxResyncs = 32

// Replay rebuilds the manifest: it lists the snapshots, loads the newest one, and applies
// the log entries after it. Its cost is one LIST, one GET of the snapshot, and one GET per
// entry after the snapshot, plus a few GETs past the end of the log (entries are read
// ReadAhead at a time). The result belongs to the caller.
func (s *Store) Replay(ctx context.Context) (*Manifest, error) {
	m, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return m.Clone(), nil
}

// ReplayFrom returns m advanced by the log entries after m.LogSeq, for readers and tailers
// that poll. m must be a manifest this package produced (Replay, ReplayFrom, Current),
// unmodified. When nothing is new it returns m itself, after one GET of the next log
// entry's key; once every PruneGrace/2 it also lists the snapshots, to tell the end of the
// log from entries pruned while the reader was away (it then reloads from the newest
// snapshot if it has fallen behind it).
//
// The result shares the SST metadata that did not change with m: neither may be modified
// in place (Clone first). A nil m is a Replay.
func (s *Store) ReplayFrom(ctx context.Context, m *Manifest) (*Manifest, error) {
	return s.ReplayFromEach(ctx, m, nil)
}

// ReplayFromEach is ReplayFrom that also calls each, if not nil, with every newer manifest
// as soon as it is proven part of the log, before the end of the log is found: a poll that
// finds a new entry hands it over one round trip earlier than its result. The manifests
// passed to each follow the same sharing rules as the result, and the last one may be the
// result itself. A read made outside the trust window is proven only by the listing after
// it: then each sees only states that listing proved.
func (s *Store) ReplayFromEach(ctx context.Context, m *Manifest, each func(*Manifest)) (*Manifest, error) {
	if m == nil {
		return s.Replay(ctx)
	}
	next, mark, _, err := s.readForward(ctx, m, s.mark(), false, nil, each)
	if err != nil {
		return nil, err
	}
	s.setMark(mark)
	return next, nil
}

// load replays from the newest snapshot and makes the result the Store's state. It lists
// the snapshots and (if the Storage can, in one request) the log concurrently, then reads
// the snapshot and every slot after it up to the last listed entry plus two concurrently
// (the first two slots when the log's listing is not available), so that a short log loads
// in two round trips.
func (s *Store) load(ctx context.Context) (*Manifest, error) {
	s.counters.loads.Add(1)
	for range maxResyncs {
		t := s.opts.Clock()
		// The log's listing, concurrently, says how many slots follow the snapshot.
		var last Seq
		var lastOK bool
		var lwg sync.WaitGroup
		if ll, ok := s.storage.(logLister); ok {
			lwg.Go(func() {
				var lerr error
				if last, lastOK, lerr = ll.lastLogEntry(ctx); lerr != nil {
					lastOK = false // only a hint
				}
			})
		}
		snaps, err := s.storage.ListSnapshots(ctx)
		lwg.Wait()
		if err != nil {
			return nil, fmt.Errorf("manifest: replay: list snapshots: %w", err)
		}
		newest := newestSnapshot(snaps)
		n := min(2, s.opts.ReadAhead) // the first slot and the hole probe
		if lastOK && last > newest {
			n = int(min(uint64(last-newest)+2, maxPrefetch))
		}
		pre := &prefetch{at: s.opts.Clock(), first: newest + 1, res: make([]entryRead, n)}
		var m *Manifest
		var wg sync.WaitGroup
		wg.Go(func() { m, err = s.loadSnapshot(ctx, newest) })
		s.fetch(ctx, pre.first, pre.res)
		wg.Wait()
		if errors.Is(err, ErrNotFound) {
			continue // pruned since the listing: list again
		}
		if err != nil {
			return nil, err
		}
		next, mark, at, err := s.readForward(ctx, m, listMark{at: t, newest: newest, valid: true}, true, pre, nil)
		if err != nil {
			return nil, err
		}
		s.setMark(mark)
		s.setState(next)
		s.setAnchor(next, at)
		return next, nil
	}
	return nil, fmt.Errorf("%w: replay: snapshots kept disappearing", ErrConflict)
}

// maxPrefetch bounds how many slots a replay reads at once after the log's listing.
const maxPrefetch = 256

// prefetch holds the results of reading slots first, first+1, ... that were sent at or
// after at.
type prefetch struct {
	at    time.Time
	first Seq
	res   []entryRead
}

// loadSnapshot returns the manifest of snapshot seq (the empty manifest for 0).
func (s *Store) loadSnapshot(ctx context.Context, seq Seq) (*Manifest, error) {
	if seq == 0 {
		return newManifest(), nil
	}
	data, err := s.storage.ReadSnapshot(ctx, seq)
	if err != nil {
		return nil, fmt.Errorf("manifest: read snapshot %d: %w", seq, err)
	}
	key := SnapshotKey(seq)
	m, err := DecodeSnapshot(key, data)
	if err != nil {
		return nil, err
	}
	if m.LogSeq != uint64(seq) {
		return nil, corruptionf(key, headerLen, "snapshot holds position %d", m.LogSeq)
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("manifest: snapshot %d: %w", seq, err)
	}
	return m, nil
}

// readForward returns m advanced to the end of the log, with every entry it read proven
// part of the log, and the snapshot listing that proves it.
//
// A missing entry is the end of the log only if its slot was never pruned. Slots are
// pruned only below a snapshot, so a slot above the newest snapshot of a listing made after
// the read is genuine; reads within PruneGrace/2 of a listing, of slots above that
// listing's newest snapshot, are genuine too (pruning waits PruneGrace after a snapshot
// appears). Entries of slots at or below a newer snapshot are proven by the hash chain when
// a genuine entry follows them, else the replay restarts from that snapshot.
//
// A full replay, and every round that will list the snapshots anyway, also reads the slot
// after the first missing one, so that a hole in the log (an entry deleted by hand) is
// reported rather than taken for the end; a poll within the trust window does not, to cost
// one GET.
//
// It also returns when the final round started: the result's end was read after that
// time, so no entry of the log followed the result then (the anchor of confirm.go). pre,
// if not nil, holds reads of the first slots after m made before the call. each, if not
// nil, gets every state read in a trusted round as soon as it is read (in such a round a
// slot above the listing's newest snapshot cannot have been pruned yet, so what it holds
// is the log's entry).
func (s *Store) readForward(ctx context.Context, m *Manifest, mark listMark, full bool, pre *prefetch, each func(*Manifest)) (*Manifest, listMark, time.Time, error) {
	for range maxResyncs {
		start := s.opts.Clock()
		if pre != nil {
			start = pre.at
		}
		trusted := mark.valid && m.LogSeq >= uint64(mark.newest) && s.opts.trustWindow() > 0 &&
			s.opts.Clock().Sub(mark.at) < s.opts.trustWindow()
		var progress func(*Manifest)
		if trusted && each != nil {
			// A batch is handed over only if it was read within the window: its reads were
			// sent before the check.
			progress = func(m *Manifest) {
				if s.opts.Clock().Sub(mark.at) < s.opts.trustWindow() {
					each(m)
				}
			}
		}
		next, err := s.readEntries(ctx, m, full || !trusted, full, pre, progress)
		pre = nil
		var stale *staleError
		if err != nil && !errors.As(err, &stale) {
			return nil, mark, start, err
		}
		if err == nil && mark.valid && m.LogSeq >= uint64(mark.newest) {
			if w := s.opts.trustWindow(); w > 0 && s.opts.Clock().Sub(mark.at) < w {
				return next, mark, start, nil
			}
		}
		t := s.opts.Clock()
		snaps, lerr := s.storage.ListSnapshots(ctx)
		if lerr != nil {
			return nil, mark, start, fmt.Errorf("manifest: list snapshots: %w", lerr)
		}
		newest := newestSnapshot(snaps)
		mark = listMark{at: t, newest: newest, valid: true}
		if err == nil {
			if uint64(newest) <= m.LogSeq || uint64(newest) < next.LogSeq {
				return next, mark, start, nil
			}
		} else if !stale.explainedBy(newest, m) {
			return nil, mark, start, stale.err
		}
		s.counters.resyncs.Add(1)
		snap, err := s.loadSnapshot(ctx, newest)
		if errors.Is(err, ErrNotFound) {
			continue // pruned since the listing (a newer one exists): go round again
		}
		if err != nil {
			return nil, mark, start, err
		}
		m = snap
	}
	return nil, mark, time.Time{}, fmt.Errorf("%w: the log kept being pruned under the replay", ErrConflict)
}

// staleError reports log contents that a prune can explain: a missing entry followed by a
// present one (a gap), or an entry that does not chain to the one before it (one of them
// was written into a pruned slot).
type staleError struct {
	seq Seq  // the entry that is missing (gap) or does not chain
	gap bool // true for a gap
	err error
}

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// explainedBy reports whether a snapshot at position newest explains the anomaly: slot
// seq (or, for a chain break, seq-1 if it was read past m) may have been pruned.
func (e *staleError) explainedBy(newest Seq, m *Manifest) bool {
	if newest >= e.seq {
		return true
	}
	return !e.gap && newest+1 == e.seq && uint64(newest) > m.LogSeq
}

// entryRead is the result of reading one slot.
type entryRead struct {
	data []byte
	err  error
}

// readEntries applies the entries after m until a missing one, reading up to ReadAhead
// slots at once (1, then doubling). It verifies each entry's position and chain. With
// probe, it also reads the slot after the first missing one, to tell a hole from the end.
// The first batch is pre's reads if they start right after m; with wide (a full replay,
// where a long tail after the snapshot is likely) the batches after it are ReadAhead
// slots at once rather than doubling. progress, if not nil, gets the state after every
// batch that advanced it without reaching the end.
func (s *Store) readEntries(ctx context.Context, m *Manifest, probe, wide bool, pre *prefetch, progress func(*Manifest)) (*Manifest, error) {
	cur := m
	batch := 1
	results := make([]entryRead, max(s.opts.ReadAhead, 2))
	if pre != nil && len(pre.res) > len(results) {
		results = make([]entryRead, len(pre.res))
	}
	for {
		first := Seq(cur.LogSeq + 1)
		if pre != nil && pre.first == first && len(pre.res) > 0 {
			batch = copy(results, pre.res)
		} else {
			s.fetch(ctx, first, results[:batch])
		}
		pre = nil
		for i := range batch {
			seq := first + Seq(i)
			r := results[i]
			if errors.Is(r.err, ErrNotFound) {
				later := slices.IndexFunc(results[i+1:batch], func(r entryRead) bool { return r.err == nil })
				if later < 0 && probe && i == batch-1 {
					if _, err := s.storage.ReadLogEntry(ctx, seq+1); err == nil {
						later = 0
					}
				}
				if later < 0 {
					return cur, nil // the result: the caller has it at once, progress need not
				}
				// A later slot exists. The reads ran concurrently, so this slot may have
				// been created since: read it again, now that the later one was seen.
				r.data, r.err = s.storage.ReadLogEntry(ctx, seq)
				if errors.Is(r.err, ErrNotFound) {
					return nil, &staleError{seq: seq, gap: true, err: corruptionf(LogEntryKey(seq), -1,
						"log entry %d is missing but entry %d exists", seq, seq+1+Seq(later))}
				}
			}
			if r.err != nil {
				return nil, fmt.Errorf("manifest: read log entry %d: %w", seq, r.err)
			}
			key := LogEntryKey(seq)
			e, err := DecodeLogEntry(key, r.data)
			if err != nil {
				return nil, err
			}
			if e.Seq != seq {
				return nil, corruptionf(key, headerLen, "entry %d stored in slot %d", e.Seq, seq)
			}
			if e.PrevHash != cur.chain {
				return nil, &staleError{seq: seq, err: corruptionf(key, headerLen,
					"entry %d does not follow entry %d (hash chain broken)", seq, seq-1)}
			}
			if cur, err = step(key, cur, e, entryHash(r.data)); err != nil {
				return nil, err
			}
			s.counters.entriesRead.Add(1)
		}
		if progress != nil && cur != m {
			progress(cur)
		}
		batch = min(batch*2, s.opts.ReadAhead)
		if wide {
			batch = s.opts.ReadAhead
		}
	}
}

// fetch reads len(out) consecutive slots from first, concurrently.
func (s *Store) fetch(ctx context.Context, first Seq, out []entryRead) {
	if len(out) == 1 {
		out[0].data, out[0].err = s.storage.ReadLogEntry(ctx, first)
		return
	}
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			out[i].data, out[i].err = s.storage.ReadLogEntry(ctx, first+Seq(i))
		})
	}
	wg.Wait()
}
