package isledb

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// Replaying the writer's WAL.
//
// OpenWriter claims the writer role, then reads every record in WALDir. Each record carries
// the fence epoch of the writer that logged it, and the manifest records, for each recent
// superseded writer epoch, the largest sequence number in the manifest when the next
// writer claimed the role (manifest.WriterTenure): the writes of that epoch at or below it
// were published, those above were not, and every write of a later writer is above it.
// For a record of epoch e with sequence number s:
//
//   - s at or below e's end: published already; nothing to do.
//   - e is the writer this one directly succeeds (the usual restart after a crash), or no
//     writer after e published anything (e's end equals the directly preceding writer's,
//     as after an OpenWriter that failed): no other writer's write can conflict, so the
//     record is re-added under its own sequence number.
//   - e is older (another writer held the role in between and published), and a later
//     writer wrote the record's key (its newest version in the database is above e's end,
//     or a record of a newer epoch in this log writes it): superseded, not re-added, since
//     a replay would shadow the newer write.
//   - e is older and the key's newest version in the database is at or below e's end: no
//     later writer wrote it (compaction drops a newer delete or expired write only together
//     with every older version of the key), so the record is re-added under a new sequence
//     number, after everything published.
//   - e is older and the key has no version in the database: either no later writer wrote
//     it, or one deleted it and compaction has since dropped the tombstone. The two cannot
//     be told apart, so the record's fate is unresolved.
//   - e's end is not recorded (the history keeps the newest manifest.MaxWriterHistory
//     tenures) or e is not a writer epoch this database had before this claim: unresolved.
//
// Unresolved records fail OpenWriter with ErrWALStale and the log is left as it is, unless
// WriterOptions.DiscardUnresolvedWAL is set (they are then dropped and counted). A
// superseded writer's delete of a key the database holds no version of changes nothing and
// is skipped. Version 1 records (written by a release before epochs were logged) carry no
// epoch: they are judged as that release did, by sequence number alone, as the directly
// preceding writer's, so the protection against stale replays covers only logs written by
// this release. Close writers cleanly before upgrading (Close leaves nothing unpublished).
//
// Batches. The writes of one batch record (Writer.Apply) are judged as a unit, so replay
// never re-adds part of a batch that was never published:
//
//   - The batch's sequence numbers all at or below e's end: published. None: judged as
//     below. Some (impossible for a log and manifest written by this release, since a batch
//     goes into one SST): unresolved, the whole batch.
//   - Directly preceding writer: the whole batch is re-added under its own numbers.
//   - Older writer: each write is judged as above (superseded, a delete of an absent key
//     skipped, rebased, or unresolved). If any write is unresolved, the whole batch is
//     unresolved: none of it is re-added (with DiscardUnresolvedWAL every write of it counts
//     as discarded) and it supersedes nothing. Otherwise its rebased writes are re-added
//     together, under consecutive new numbers; a superseded write is one a later writer
//     overwrote, so the result is the batch applied whole before that later write.
//   - A batch holding a write no flush can store is refused, or dropped whole.
//
// Replayed writes all go into one memtable, flushed as one SST in one manifest entry.

// WALReplayStats says what OpenWriter found in WriterOptions.WALDir and did with it.
type WALReplayStats struct {
	// Records is the number of records read from the log.
	Records int
	// Published counts records already in the manifest: nothing to do.
	Published int
	// Replayed counts records of the directly preceding writer re-added under their own
	// sequence numbers.
	Replayed int
	// Rebased counts records of an older writer re-added under new sequence numbers: no
	// later writer wrote their keys.
	Rebased int
	// Superseded counts records of an older writer not re-added because a later writer
	// wrote their key after them.
	Superseded int
	// Discarded counts records whose fate could not be told, dropped because
	// WriterOptions.DiscardUnresolvedWAL is set.
	Discarded int
	// Unstorable counts records dropped because no flush could ever store them (a key or
	// inline value above the format's limits, see "Limits" in docs/format.md: only a
	// version that accepted such writes logged them), dropped because
	// WriterOptions.DiscardUnresolvedWAL is set.
	Unstorable int
}

// String formats the counts on one line.
func (s WALReplayStats) String() string {
	out := fmt.Sprintf("%d records: %d published, %d replayed, %d rebased, %d superseded, %d discarded",
		s.Records, s.Published, s.Replayed, s.Rebased, s.Superseded, s.Discarded)
	if s.Unstorable > 0 {
		out += fmt.Sprintf(", %d unstorable", s.Unstorable)
	}
	return out
}

// WALReplayStats returns what OpenWriter did with the records it found in WALDir (all zero
// without a WAL).
func (w *Writer) WALReplayStats() WALReplayStats { return w.replay }

// replayWAL re-adds the logged writes recs (the log's records, read before the claim) that
// the manifest m (read after this writer's claim) does not hold, per the rules above,
// flushes them, and empties the log.
func (w *Writer) replayWAL(ctx context.Context, m *manifest.Manifest, recs []walRecord) error {
	st := WALReplayStats{Records: len(recs)}
	var prev manifest.WriterTenure // the writer this one directly succeeds, if any
	for _, t := range m.WriterHistory {
		if t.Epoch < w.fence.Epoch {
			prev = t
		}
	}
	var direct, stale []walRecord
	var staleEnd []uint64 // the end of each stale record's epoch
	newer := map[string]bool{}
	var unresolved int
	// A batch (the writes of one batch record) is judged as a unit: it is published,
	// re-added, or unresolved as a whole (see "Batches" above).
	for _, u := range walUnits(recs) {
		r := u[0]
		epoch := r.epoch
		if epoch == 0 {
			epoch = prev.Epoch
		}
		end, ok := prev.EndSeq, epoch == prev.Epoch && epoch != 0
		if !ok {
			if t, found := m.WriterTenure(epoch); found && epoch != 0 {
				end, ok = t.EndSeq, true
			} else if r.epoch == 0 && prev.Epoch == 0 {
				// A version 1 log and no earlier writer recorded: judge against the
				// manifest, as before epochs were logged.
				end, ok = m.MaxSeqNum(), true
				epoch = 0
			}
		}
		lo, hi := uint64(u[0].seq), uint64(u[len(u)-1].seq)
		switch {
		case !ok:
			unresolved += len(u)
		case hi <= end:
			st.Published += len(u)
		case lo <= end:
			// Part of a batch published: a batch goes into one SST, so this log does not
			// match the manifest.
			unresolved += len(u)
		case epoch == prev.Epoch || end == prev.EndSeq:
			// No writer published anything since e's tenure ended (a writer whose
			// OpenWriter failed, say): nothing can conflict.
			direct = append(direct, u...)
			for _, r := range u {
				newer[string(r.key)] = true
			}
		default:
			stale = append(stale, u...)
			for range u {
				staleEnd = append(staleEnd, end)
			}
		}
	}
	// Stale records are judged newest epoch first, so a newer stale write of a key supersedes
	// an older one. The writes of a stale batch are judged together: if one is unresolved,
	// so is the whole batch (none of it is re-added, and its keys supersede nothing).
	var rebase []walRecord // newest first
	var absent int         // stale records whose key has no version in the database (or in such a batch)
	if len(stale) > 0 {
		newest, err := w.newestVersions(ctx, stale)
		if err != nil {
			return err
		}
		i := len(stale)
		for _, u := range slices.Backward(walUnits(stale)) {
			i -= len(u)
			var keep []walRecord // the unit's writes to re-add, newest first
			unitNewer := map[string]bool{}
			superseded, missing := 0, false
			for j := len(u) - 1; j >= 0; j-- {
				r := u[j]
				k := string(r.key)
				v, found := newest[k]
				switch {
				case newer[k] || unitNewer[k] || v > staleEnd[i+j]:
					superseded++
					continue
				case !found && r.kind == base.KindDelete:
					superseded++ // deleting a key the database does not hold changes nothing
					continue
				case !found:
					missing = true
					continue
				}
				unitNewer[k] = true
				keep = append(keep, r)
			}
			if missing {
				absent += len(u)
				continue
			}
			st.Superseded += superseded
			for k := range unitNewer {
				newer[k] = true
			}
			rebase = append(rebase, keep...)
		}
	}
	// Records no flush could store (logged by a version whose options allowed them) would
	// fail every flush and hold up the others: refused, or dropped on request (a batch
	// holding one is dropped whole).
	var unstorableErr error
	keep := func(rs []walRecord) []walRecord {
		var out []walRecord
		for _, u := range walUnits(rs) {
			bad := false
			for _, r := range u {
				if err := unstorable(w.opts.ValueStorage.ValueOptions, r.key, r.value); err != nil {
					bad = true
					if unstorableErr == nil {
						unstorableErr = fmt.Errorf("seq %d: %w", r.seq, err)
					}
				}
			}
			if bad {
				st.Unstorable += len(u)
				continue
			}
			out = append(out, u...)
		}
		return out
	}
	direct, rebase = keep(direct), keep(rebase)
	if st.Unstorable > 0 && !w.opts.DiscardUnresolvedWAL {
		return fmt.Errorf("isledb: open writer: replay WAL: of %d records in %s, %d can never be flushed (logged by a version that accepted them; set DiscardUnresolvedWAL to drop them), first %w",
			len(recs), w.opts.WALDir, st.Unstorable, unstorableErr)
	}
	if unresolved+absent > 0 {
		if !w.opts.DiscardUnresolvedWAL {
			return fmt.Errorf("isledb: open writer: %w: of %d records in %s, %d belong to writer epochs whose end the manifest no longer records and %d are unpublished writes of a superseded writer to keys the database holds no version of (a later delete may have been compacted away); set DiscardUnresolvedWAL to drop them",
				ErrWALStale, len(recs), w.opts.WALDir, unresolved, absent)
		}
		st.Discarded = unresolved + absent
	}
	w.mu.Lock()
	add := func(r walRecord, seq base.SeqNum) {
		if w.mu.active.Empty() {
			w.mu.activeSince = time.Now()
		}
		w.mu.active.Add(seq, r.kind, r.key, r.value, r.expiry)
	}
	for _, r := range direct {
		add(r, r.seq)
		w.mu.nextSeq = max(w.mu.nextSeq, r.seq+1)
	}
	for i := len(rebase) - 1; i >= 0; i-- { // oldest first
		add(rebase[i], w.mu.nextSeq)
		w.mu.nextSeq++
	}
	w.mu.Unlock()
	st.Replayed, st.Rebased = len(direct), len(rebase)
	w.replay = st
	if len(direct)+len(rebase) > 0 {
		if err := w.Flush(ctx); err != nil {
			return fmt.Errorf("isledb: open writer: flush replayed WAL writes: %w", err)
		}
	}
	// Everything logged is now in the manifest, superseded, or discarded on request.
	if err := w.wal.published(w.wal.nextID(), st.Records > 0); err != nil {
		return fmt.Errorf("isledb: open writer: WAL: %w", err)
	}
	return nil
}

// newestVersions returns, for each key of recs that has a version in the database, the
// sequence number of its newest version (deletes included), read through a private reader.
func (w *Writer) newestVersions(ctx context.Context, recs []walRecord) (map[string]uint64, error) {
	dir, err := os.MkdirTemp("", "isledb-wal-replay-")
	if err != nil {
		return nil, fmt.Errorf("isledb: open writer: replay WAL: %w", err)
	}
	defer os.RemoveAll(dir)
	r, err := OpenReader(ctx, w.store, ReaderOpenOptions{CacheDir: dir, SSTCacheSize: 1 << 20, BlobCacheSize: 1 << 20,
		ManifestStorage: w.db.mstorage})
	if err != nil {
		return nil, fmt.Errorf("isledb: open writer: replay WAL: %w", err)
	}
	defer r.Close()
	m := r.cur.Load()
	out := make(map[string]uint64, len(recs))
	seen := make(map[string]bool, len(recs))
	for _, rec := range recs {
		k := string(rec.key)
		if seen[k] {
			continue
		}
		seen[k] = true
		e, ok, err := r.lookup(ctx, m, rec.key)
		if err != nil {
			return nil, fmt.Errorf("isledb: open writer: replay WAL: look up %q: %w", rec.key, err)
		}
		if ok {
			out[k] = uint64(e.Seq)
		}
	}
	return out, nil
}

// walUnits splits recs into the units replay judges: each write of a batch record together
// with the others of that record (they are consecutive in recs), every other write alone.
func walUnits(recs []walRecord) [][]walRecord {
	var out [][]walRecord
	for i := 0; i < len(recs); {
		j := i + 1
		if recs[i].batch {
			for j < len(recs) && recs[j].batch && recs[j].id == recs[i].id {
				j++
			}
		}
		out = append(out, recs[i:j:j])
		i = j
	}
	return out
}
