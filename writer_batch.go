package isledb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/memtable"
	"github.com/isledb/isledb/wal"
)

// ErrBatchTooLarge reports a batch whose Size is above WriterOptions.MaxBatchSize; nothing
// of it was applied.
var ErrBatchTooLarge = errors.New("isledb: batch too large")

// NewBatch returns an empty batch for Apply.
func (w *Writer) NewBatch() *Batch { return &Batch{} }

// Apply applies the writes of b all-or-nothing, in their order, under consecutive sequence
// numbers. It first checks every write as Put would (ErrEmptyKey, ErrKeyTooLarge,
// ErrValueTooLarge, ErrInvalidTTL for a TTL refused as it was added) and the batch's Size
// against WriterOptions.MaxBatchSize (ErrBatchTooLarge): if any check fails, nothing is
// applied and the error names the first bad write. An empty batch is a no-op.
//
// The batch is one WAL record (with WALDir; Apply returns once the log holds it, as Put
// does), goes whole into one memtable (the active one is frozen first if the batch does
// not fit, so a batch larger than MemtableSize gets a memtable of its own), hence into one
// SST and one manifest entry: readers, tailing readers and the change feed see all of it
// or none of it, and WAL replay re-adds it whole or not at all. Like Put, Apply fails with
// ErrBackpressure when MaxImmutableMemtables memtables wait for their flush. ctx is checked
// before the batch is applied; once applied, Apply waits for the log without it.
func (w *Writer) Apply(ctx context.Context, b *Batch) error {
	if b == nil {
		return nil
	}
	if b.err != nil {
		return fmt.Errorf("isledb: apply batch: %w", b.err)
	}
	if b.n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	memSize, err := w.checkBatch(b)
	if err != nil {
		return err
	}
	w.mu.Lock()
	first := w.mu.nextSeq
	walID, err := w.applyLocked(b, memSize)
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if w.opts.Metrics != nil { // each write of the batch counts as a Put or Delete would
		_ = forEachBatchOp(b.ops, b.n, func(_ int, op batchOp) error {
			w.observeWrite(op.kind, op.key, op.value)
			return nil
		})
	}
	if w.wal != nil {
		if err := w.wal.waitDurable(walID); err != nil {
			return fmt.Errorf("isledb: write-ahead log: %w", err)
		}
	}
	return w.waitBucketEach(first + base.SeqNum(b.n) - 1)
}

// checkBatch checks a non-empty batch as Apply documents, and returns the memtable bytes
// its writes take.
func (w *Writer) checkBatch(b *Batch) (int64, error) {
	if size := b.Size(); size > w.opts.MaxBatchSize {
		return 0, fmt.Errorf("%w: %d bytes (%d writes), limit %d", ErrBatchTooLarge, size, b.n, w.opts.MaxBatchSize)
	}
	var memSize int64
	err := forEachBatchOp(b.ops, b.n, func(i int, op batchOp) error {
		if err := w.checkKV(op.key, op.value); err != nil {
			return fmt.Errorf("isledb: apply batch: write %d (key %.64q): %w", i, op.key, err)
		}
		memSize += memtable.EntrySize(len(op.key), len(op.value))
		return nil
	})
	return memSize, err
}

// applyLocked logs the checked, non-empty batch b (memSize: what checkBatch returned) and
// adds it to one memtable; the caller holds w.mu and, with a WAL, waits for the returned
// WAL id to be durable before acknowledging.
func (w *Writer) applyLocked(b *Batch, memSize int64) (wal.SeqNum, error) {
	if err := w.usableLocked(); err != nil {
		return 0, err
	}
	if act := w.mu.active; !act.Empty() && act.Size()+memSize > w.opts.MemtableSize {
		if len(w.mu.immutables) >= w.opts.MaxImmutableMemtables {
			w.observeRefused()
			return 0, ErrBackpressure
		}
		w.rotateLocked()
	}
	act := w.mu.active
	first := w.mu.nextSeq
	var walID wal.SeqNum
	if w.wal != nil {
		id, err := w.wal.appendBatch(first, b)
		if err != nil {
			return 0, fmt.Errorf("isledb: write-ahead log: %w", err)
		}
		walID = id
	}
	if w.bwal != nil {
		if err := w.logBucketBatchLocked(first, b); err != nil {
			return 0, err
		}
	}
	if act.Empty() {
		w.mu.activeSince = time.Now()
	}
	// The encoding was checked by checkBatch; the memtable copies keys and values.
	_ = forEachBatchOp(b.ops, b.n, func(i int, op batchOp) error {
		seq := first + base.SeqNum(i)
		act.Add(seq, op.kind, op.key, op.value, op.expiry)
		w.noteWriteLocked(seq, op.kind, op.key, op.value, op.expiry)
		return nil
	})
	w.mu.nextSeq += base.SeqNum(b.n)
	return walID, nil
}

// walRecordBatch is the version byte of a batch record (frozen): the writes of one
// Writer.Apply in one WAL entry, so that the log holds all of them or none (an entry is
// checksummed whole, and a torn one is cut whole).
//
//	+---------+-----------+---------+---------+-------------------+
//	| version | first seq | epoch   | count   | count writes      |
//	| 1 B = 3 | 8 B (LE)  | uvarint | uvarint | (appendBatchOp)   |
//	+---------+-----------+---------+---------+-------------------+
//
// Write i has sequence number first seq + i.
const walRecordBatch = 3

// appendBatchRecord encodes the batch record of b, whose writes take sequence numbers from
// first on, logged by epoch.
func appendBatchRecord(dst []byte, first base.SeqNum, epoch uint64, b *Batch) []byte {
	dst = append(dst, walRecordBatch)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(first))
	dst = binary.AppendUvarint(dst, epoch)
	dst = binary.AppendUvarint(dst, uint64(b.n))
	return append(dst, b.ops...)
}

// decodeWALBatch decodes a batch record into its writes (keys and values alias b). Any
// malformed record is an error wrapping ErrCorruption.
func decodeWALBatch(b []byte) ([]walRecord, error) {
	if len(b) < 1+8 || b[0] != walRecordBatch {
		return nil, fmt.Errorf("%w: writer WAL batch: bad header", ErrCorruption)
	}
	first := binary.LittleEndian.Uint64(b[1:])
	rest := b[9:]
	epoch, n := binary.Uvarint(rest)
	if n <= 0 || epoch == 0 {
		return nil, fmt.Errorf("%w: writer WAL batch: bad epoch", ErrCorruption)
	}
	rest = rest[n:]
	count, n := binary.Uvarint(rest)
	if n <= 0 || count == 0 || count > uint64(len(rest)-n)/batchOpMinSize {
		return nil, fmt.Errorf("%w: writer WAL batch: bad count", ErrCorruption)
	}
	rest = rest[n:]
	if first == 0 || first > math.MaxUint64-count {
		return nil, fmt.Errorf("%w: writer WAL batch: bad sequence number %d for %d writes", ErrCorruption, first, count)
	}
	out := make([]walRecord, 0, count)
	err := forEachBatchOp(rest, int(count), func(i int, op batchOp) error {
		out = append(out, walRecord{seq: base.SeqNum(first) + base.SeqNum(i), kind: op.kind, expiry: op.expiry,
			epoch: epoch, key: op.key, value: op.value, batch: true})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendBatch logs b as one record, its writes numbered from first; the caller holds the
// writer's mutex. It returns the record's WAL id, for waitDurable.
func (w *writerWAL) appendBatch(first base.SeqNum, b *Batch) (wal.SeqNum, error) {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return 0, err
	}
	w.buf = appendBatchRecord(w.buf[:0], first, w.epoch, b)
	id, err := w.log.Append(walStream, w.buf)
	if cap(w.buf) > 1<<20 {
		w.buf = nil // a large batch's scratch is not kept for the single writes after it
	}
	return id, err
}
