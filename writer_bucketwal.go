package isledb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/bucketwal"
	"github.com/isledb/isledb/manifest"
	"github.com/isledb/isledb/wal"
)

// BucketWALMode chooses whether and how a writer's writes become durable in the bucket
// before their flush (WriterOptions.BucketWAL).
type BucketWALMode uint8

const (
	// BucketWALOff, the default: a write reaches the bucket with the flush of its memtable.
	BucketWALOff BucketWALMode = iota
	// BucketWALOnSync: writes return at once and are written to the bucket in the
	// background as group-committed WAL objects; Writer.Sync returns once every write made
	// before it is there.
	BucketWALOnSync
	// BucketWALEachWrite: Put, Delete, Apply and a transaction's commit each return once
	// the write is in the bucket (concurrent writes share one PUT). If an attempt to write
	// the WAL fails meanwhile, the call returns its error, as a failed Flush does: the write
	// is applied and stays queued for the WAL, and a later Sync reports when it lands.
	BucketWALEachWrite
)

// String returns the name of m.
func (m BucketWALMode) String() string {
	switch m {
	case BucketWALOff:
		return "Off"
	case BucketWALOnSync:
		return "OnSync"
	case BucketWALEachWrite:
		return "EachWrite"
	}
	return fmt.Sprintf("BucketWALMode(%d)", uint8(m))
}

// DefaultBucketWALMaxObjectSize is the default WriterOptions.BucketWALMaxObjectSize.
const DefaultBucketWALMaxObjectSize = bucketwal.DefaultMaxObjectSize

// Sync returns once every write made before the call is durable in the bucket: with
// WriterOptions.BucketWAL, in a WAL object or the manifest (a writer opened on any machine
// afterwards has it); without, Sync is Flush. It returns the error of a failed attempt
// to write the WAL made while it waited (the writes stay queued and are retried, and a
// later Sync reports success once they land), or, once another writer took the role and
// fenced this one's WAL, an error wrapping ErrWriterFailed and manifest.ErrFenced: the
// writes not yet in the bucket then never will be.
func (w *Writer) Sync(ctx context.Context) error {
	if w.bwal == nil {
		return w.Flush(ctx)
	}
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	target := w.mu.nextSeq - 1
	w.mu.Unlock()
	if err := w.bwal.Wait(ctx, uint64(target)); err != nil {
		return w.bucketErr(err)
	}
	return nil
}

// BucketWALStats counts what the writer's bucket WAL wrote.
type BucketWALStats struct {
	// Objects is the number of WAL objects written (one PUT each, not counting retries).
	Objects int64
	// Records is the number of WAL records in them (a Put or Delete is one, a batch one).
	Records int64
	// Bytes is the size of the objects written.
	Bytes int64
	// FailedAttempts counts failed PUT attempts.
	FailedAttempts int64
}

// BucketWALStats returns what the writer's bucket WAL wrote so far (zero without
// WriterOptions.BucketWAL).
func (w *Writer) BucketWALStats() BucketWALStats {
	if w.bwal == nil {
		return BucketWALStats{}
	}
	s := w.bwal.Stats()
	return BucketWALStats{Objects: s.Objects, Records: s.Records, Bytes: s.Bytes, FailedAttempts: s.Failed}
}

// bucketErr wraps an error of the bucket WAL; a fence makes it terminal.
func (w *Writer) bucketErr(err error) error {
	if errors.Is(err, manifest.ErrFenced) && !errors.Is(err, ErrWriterFailed) {
		return fmt.Errorf("%w: bucket WAL: %w", ErrWriterFailed, err)
	}
	return fmt.Errorf("isledb: bucket WAL: %w", err)
}

// logBucketLocked queues r (epoch filled in) for the bucket WAL; the caller holds w.mu.
func (w *Writer) logBucketLocked(r walRecord) error {
	r.epoch = w.fence.Epoch
	w.bwalBuf = r.appendTo(w.bwalBuf[:0])
	if err := w.bwal.Add(uint64(r.seq), uint64(r.seq), w.bwalBuf); err != nil {
		return w.bucketErr(err)
	}
	return nil
}

// logBucketBatchLocked queues batch b, numbered from first, as one record.
func (w *Writer) logBucketBatchLocked(first base.SeqNum, b *Batch) error {
	w.bwalBuf = appendBatchRecord(w.bwalBuf[:0], first, w.fence.Epoch, b)
	err := w.bwal.Add(uint64(first), uint64(first)+uint64(b.n)-1, w.bwalBuf)
	if cap(w.bwalBuf) > 1<<20 {
		w.bwalBuf = nil
	}
	if err != nil {
		return w.bucketErr(err)
	}
	return nil
}

// waitBucketEach waits, under BucketWALEachWrite, until writes up to seq are in the bucket.
func (w *Writer) waitBucketEach(seq base.SeqNum) error {
	if w.bwal == nil || w.opts.BucketWAL != BucketWALEachWrite {
		return nil
	}
	if err := w.bwal.Wait(context.Background(), uint64(seq)); err != nil {
		return w.bucketErr(err)
	}
	return nil
}

// onBucketWALError is the Committer's OnError: a fence stops the writer.
func (w *Writer) onBucketWALError(err error) {
	if errors.Is(err, manifest.ErrFenced) {
		w.mu.Lock()
		if w.mu.terminal == nil {
			w.mu.terminal = fmt.Errorf("%w: bucket WAL: %w", ErrWriterFailed, err)
		}
		w.notifyLocked()
		w.mu.Unlock()
	}
	w.opts.OnFlushError(fmt.Errorf("isledb: bucket WAL: %w", err))
}

// Recovering the bucket WAL.
//
// OpenWriter, after its claim and manifest replay, fences the WAL object chain
// (bucketwal.Fence: a fence object at the first free position, so the old writer can
// append no more), checks that its claim is still current (so that every later claimer's
// fence lands after its own, and sees its objects), and judges the records of the objects before the fence that the manifest
// may not cover. A writer accepts writes only after this recovery has flushed what it
// replays, so only the writer of the newest data object (epoch E) can have records the
// manifest lacks; every older one's were covered when E's writer opened. E's records are
// replayed under their own sequence numbers when above the manifest's largest (those at or
// below it are published: E flushes in sequence order, and writers that failed to open
// after E replayed E's records, in order, and published nothing else), provided every
// writer between E and this one wrote a fence object or published nothing (its tenure
// ends where the previous one did). A writer without BucketWAL in between may have
// published writes under the same sequence numbers: E's records above E's tenure are then
// unresolved, and OpenWriter fails with ErrWALStale unless DiscardUnresolvedWAL.
func (w *Writer) recoverBucketWAL(ctx context.Context, m *manifest.Manifest) error {
	epoch := w.fence.Epoch
	rec, err := bucketwal.Fence(ctx, w.store, epoch)
	if err != nil {
		return fmt.Errorf("isledb: open writer: fence the bucket WAL: %w", err)
	}
	// A writer that claimed after this one but fenced before it would not see this
	// writer's objects: this writer must then not write any (its claim is no longer current).
	if err := w.ms.CheckWriterFence(ctx); err != nil {
		return fmt.Errorf("isledb: open writer: after fencing the bucket WAL: %w", err)
	}
	var last *bucketwal.Object // the newest data object
	for _, o := range rec.Objects {
		if o.Kind == bucketwal.KindData {
			last = o
		}
	}
	var recs []walRecord
	var nextID wal.SeqNum
	st := WALReplayStats{}
	if last != nil {
		for _, o := range rec.Objects {
			if o.Kind != bucketwal.KindData || o.Epoch != last.Epoch {
				continue
			}
			for i, b := range o.Records {
				rs, err := decodeBucketRecord(b)
				if err != nil {
					return fmt.Errorf("isledb: open writer: bucket WAL object %s record %d: %w", bucketwal.Key(o.Position), i, err)
				}
				nextID++ // walUnits tells the batches apart by id
				for j := range rs {
					rs[j].id = nextID
				}
				recs = append(recs, rs...)
			}
		}
	}
	st.Records = len(recs)
	maxSeq := m.MaxSeqNum()
	var replay []walRecord
	unresolved := 0
	if len(recs) > 0 {
		// Which records the manifest may lack, and whether a writer without the bucket WAL
		// published in between.
		end, ok := m.WriterTenure(last.Epoch)
		mixed := !ok
		if ok {
			fenced := map[uint64]bool{}
			for _, o := range rec.Objects {
				if o.Kind == bucketwal.KindFence && o.Position > last.Position {
					fenced[o.Epoch] = true
				}
			}
			prevEnd := end.EndSeq
			for _, t := range m.WriterHistory {
				if t.Epoch <= last.Epoch || t.Epoch >= epoch {
					continue
				}
				if !fenced[t.Epoch] && t.EndSeq != prevEnd {
					mixed = true
				}
				prevEnd = t.EndSeq
			}
		}
		for _, u := range walUnits(recs) {
			lo, hi := uint64(u[0].seq), uint64(u[len(u)-1].seq)
			switch {
			case mixed && (!ok || hi > end.EndSeq):
				unresolved += len(u)
			case mixed:
				st.Published += len(u)
			case hi <= maxSeq:
				st.Published += len(u)
			case lo <= maxSeq:
				unresolved += len(u) // part of a batch published: the WAL does not match the manifest
			default:
				replay = append(replay, u...)
			}
		}
	}
	var unstorableErr error
	var keep []walRecord
	for _, u := range walUnits(replay) {
		bad := false
		for _, r := range u {
			if err := unstorable(w.opts.ValueStorage.ValueOptions, r.key, r.value); err != nil && unstorableErr == nil {
				unstorableErr = fmt.Errorf("seq %d: %w", r.seq, err)
				bad = true
			} else if err != nil {
				bad = true
			}
		}
		if bad {
			st.Unstorable += len(u)
			continue
		}
		keep = append(keep, u...)
	}
	if st.Unstorable > 0 && !w.opts.DiscardUnresolvedWAL {
		return fmt.Errorf("isledb: open writer: recover bucket WAL: %d records can never be flushed (set DiscardUnresolvedWAL to drop them), first %w", st.Unstorable, unstorableErr)
	}
	if unresolved > 0 {
		if !w.opts.DiscardUnresolvedWAL {
			return fmt.Errorf("isledb: open writer: %w: of %d bucket WAL records of writer epoch %d, %d cannot be judged: a writer without BucketWAL published since (or the manifest no longer records epoch %d's end); set DiscardUnresolvedWAL to drop them",
				ErrWALStale, len(recs), last.Epoch, unresolved, last.Epoch)
		}
		st.Discarded = unresolved
	}
	w.mu.Lock()
	for _, r := range keep {
		if w.mu.active.Empty() {
			w.mu.activeSince = time.Now()
		}
		w.mu.active.Add(r.seq, r.kind, r.key, r.value, r.expiry)
		w.mu.nextSeq = max(w.mu.nextSeq, r.seq+1)
	}
	w.mu.Unlock()
	st.Replayed = len(keep)
	w.replay = st
	if len(keep) > 0 {
		if err := w.Flush(ctx); err != nil {
			return fmt.Errorf("isledb: open writer: flush replayed bucket WAL writes: %w", err)
		}
	}
	next, covered := rec.Fence+1, rec.Fence
	if len(recs) > 0 {
		// What was found is in the manifest now (or discarded on request): say so in the
		// bucket at once, so that no later writer, reader or GC pass looks at it again.
		err := bucketwal.MarkCovered(ctx, w.store, epoch, next)
		for errors.Is(err, bucketwal.ErrStaleFence) {
			next++
			err = bucketwal.MarkCovered(ctx, w.store, epoch, next)
		}
		if err != nil {
			return fmt.Errorf("isledb: open writer: bucket WAL: %w", err)
		}
		next, covered = next+1, next
	}
	w.mu.Lock()
	durable := uint64(w.mu.nextSeq - 1)
	w.bwal = bucketwal.Start(bucketwal.Options{
		Store: w.store, Epoch: epoch, Next: next, CoveredBelow: covered, Durable: durable,
		MaxObjectSize: w.opts.BucketWALMaxObjectSize,
		CheckFence:    w.ms.CheckWriterFence,
		OnError:       w.onBucketWALError,
	})
	w.mu.Unlock()
	return nil
}

// decodeBucketRecord decodes one record of a WAL object: a writer WAL record (version 2)
// or a batch record (version 3).
func decodeBucketRecord(b []byte) ([]walRecord, error) {
	if len(b) > 0 && b[0] == walRecordV1 { // never written to the bucket
		return nil, fmt.Errorf("%w: bucket WAL record version %d", ErrCorruption, b[0])
	}
	return decodeWALEntry(b)
}
