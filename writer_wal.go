package isledb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/wal"
)

// walStream is the stream of the writer's WAL that holds its unflushed writes.
const walStream = "writer"

// The version byte of a writer WAL record. Frozen. Version 2 adds the writer's fence epoch;
// version 1 records (no epoch) are still read, as written by the writer the new one
// directly succeeds. Version 3 (walRecordBatch, writer_batch.go) is a batch: several writes
// in one record.
//
// A version 2 record (one WAL entry per write) is:
//
//	+---------+------+----------+----------+---------+------------+-----+-------+
//	| version | kind | seq      | expiry   | epoch   | key length | key | value |
//	| 1 B = 2 | 1 B  | 8 B (LE) | 8 B (LE) | uvarint | uvarint    |     | rest  |
//	+---------+------+----------+----------+---------+------------+-----+-------+
//
// A version 1 record is the same without the epoch field.
const (
	walRecordV1      = 1
	walRecordVersion = 2
)

// walRecordMaxOverhead bounds the bytes a writer WAL record adds to its key and value: the
// version, kind, seq and expiry, and the two uvarints at their longest.
const walRecordMaxOverhead = 1 + 1 + 8 + 8 + 2*binary.MaxVarintLen64

// walMarkerPublished is the first byte of a marker record (frozen): every record with a WAL
// id below the marker's is published (in the manifest), and replay skips it. The log drops
// only whole segments, so published records can outlive their truncation; the marker keeps
// replay from judging them again.
//
//	+---------------+---------+
//	| 0x80          | below   |
//	| 1 B           | uvarint |
//	+---------------+---------+
const walMarkerPublished = 0x80

// walRecord is one write as the WAL holds it.
type walRecord struct {
	id     wal.SeqNum // the record's WAL id (not encoded)
	seq    base.SeqNum
	kind   base.Kind
	expiry int64
	epoch  uint64 // the writer fence epoch that logged it; 0: unknown (a version 1 record)
	key    []byte
	value  []byte
	// batch: the write came from a batch record (walRecordBatch, writer_batch.go); the
	// writes of one batch share id and are replayed whole or not at all.
	batch bool
}

func (r walRecord) appendTo(dst []byte) []byte {
	dst = append(dst, walRecordVersion, byte(r.kind))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.seq))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.expiry))
	dst = binary.AppendUvarint(dst, r.epoch)
	dst = binary.AppendUvarint(dst, uint64(len(r.key)))
	dst = append(dst, r.key...)
	return append(dst, r.value...)
}

// decodeWALEntry decodes one writer WAL entry that holds writes: a single-write record
// (version 1 or 2) or a batch record (version 3, writer_batch.go). Keys and values alias b.
// The local log's replay and VerifyWAL and the bucket WAL all read entries through it.
func decodeWALEntry(b []byte) ([]walRecord, error) {
	if len(b) > 0 && b[0] == walRecordBatch {
		return decodeWALBatch(b)
	}
	r, err := decodeWALRecord(b)
	if err != nil {
		return nil, err
	}
	return []walRecord{r}, nil
}

func decodeWALRecord(b []byte) (walRecord, error) {
	if len(b) < 18 || (b[0] != walRecordV1 && b[0] != walRecordVersion) || !base.Kind(b[1]).Valid() {
		return walRecord{}, fmt.Errorf("%w: writer WAL record: bad header", ErrCorruption)
	}
	r := walRecord{kind: base.Kind(b[1]), seq: base.SeqNum(binary.LittleEndian.Uint64(b[2:])), expiry: int64(binary.LittleEndian.Uint64(b[10:]))}
	rest := b[18:]
	if b[0] == walRecordVersion {
		epoch, n := binary.Uvarint(rest)
		if n <= 0 || epoch == 0 {
			return walRecord{}, fmt.Errorf("%w: writer WAL record: bad epoch", ErrCorruption)
		}
		r.epoch, rest = epoch, rest[n:]
	}
	klen, n := binary.Uvarint(rest)
	if n <= 0 || klen > uint64(len(rest)-n) {
		return walRecord{}, fmt.Errorf("%w: writer WAL record: bad key length", ErrCorruption)
	}
	rest = rest[n:]
	r.key, r.value = rest[:klen], rest[klen:]
	return r, nil
}

// writerWAL is the writer's write-ahead log with its own group commit: records are
// appended under the writer's lock (so the log is in sequence order) without an fsync,
// and each strict write then waits for one fsync that covers it, shared with every other
// write waiting at the time.
type writerWAL struct {
	log    *wal.WAL
	strict bool
	epoch  uint64 // the writer's fence epoch, logged in every record
	buf    []byte // record encoding scratch, guarded by the writer's mutex

	mu      sync.Mutex
	cond    *sync.Cond
	durable wal.SeqNum // every record below is on stable storage
	syncing bool
	err     error // a failed fsync: the WAL can no longer promise durability

	cut error // the mid-log damage cut at open (WALRecoveryTruncateAtCorruption), or nil
}

// WALRecoveryMode chooses what OpenWriter does when the writer's WAL is damaged in the
// middle (see WriterOptions.WALRecovery). A torn tail is cut silently in every mode.
type WALRecoveryMode uint8

const (
	// WALRecoveryFailOnCorruption, the default, makes OpenWriter fail when damage in the
	// WAL is followed by valid records: cutting there would silently drop acknowledged
	// writes. The error matches ErrCorruption, wal.ErrCorruption and
	// wal.ErrMidLogCorruption, and wraps a *wal.MidLogCorruptionError that names the segment
	// file, the offset and the sequence number of the first bad record and of the next
	// valid one. The WAL is left as it was, for inspection or a copy. (A process crash
	// never causes this. A power cut can: records written but not yet fsynced may reach the
	// disk with holes between them, which look the same as damage. With WALSyncMode
	// wal.SyncStrict those records were never acknowledged.)
	WALRecoveryFailOnCorruption WALRecoveryMode = iota
	// WALRecoveryTruncateAtCorruption cuts the WAL at the first damaged record and opens:
	// the writes logged before the damage are replayed and those logged after it are lost.
	// Writer.WALCorruption reports the damage that was cut. Damage in a sealed segment (the
	// WAL starts a new segment file every 64 MiB) is never cut: OpenWriter fails with a
	// corruption error in every mode.
	WALRecoveryTruncateAtCorruption
)

// String returns the name of m.
func (m WALRecoveryMode) String() string {
	switch m {
	case WALRecoveryFailOnCorruption:
		return "FailOnCorruption"
	case WALRecoveryTruncateAtCorruption:
		return "TruncateAtCorruption"
	}
	return fmt.Sprintf("WALRecoveryMode(%d)", uint8(m))
}

// WALCorruption returns the damage OpenWriter cut from the WAL under
// WALRecoveryTruncateAtCorruption (a *wal.MidLogCorruptionError: where it was, and where
// valid records resumed; the writes logged from the damage on were dropped), or nil: no WAL,
// an undamaged WAL, or only a torn tail cut.
func (w *Writer) WALCorruption() error {
	if w.wal == nil {
		return nil
	}
	return w.wal.cut
}

// openWriterWAL opens the writer's WAL in dir. A torn tail is cut; damage that valid records
// follow is an error wrapping ErrCorruption and a *wal.MidLogCorruptionError, unless
// recovery is WALRecoveryTruncateAtCorruption: then the log is cut at the damage too, and
// the damage is kept in cut.
func openWriterWAL(dir string, mode wal.SyncMode, recovery WALRecoveryMode) (*writerWAL, error) {
	opts := wal.DefaultOptions(dir)
	// The writer fsyncs itself (group commit across Puts); the WAL only buffers.
	opts.SyncMode = wal.SyncAsync
	opts.OnCorruption = wal.OnCorruptionTruncateTornTail
	log, err := wal.Open(opts)
	var cut error
	if errors.Is(err, wal.ErrMidLogCorruption) && recovery == WALRecoveryTruncateAtCorruption {
		// The failed Open changed nothing; open again, cutting at the damage.
		cut = err
		opts.OnCorruption = wal.OnCorruptionTruncate
		log, err = wal.Open(opts)
	}
	if errors.Is(err, wal.ErrMidLogCorruption) {
		return nil, fmt.Errorf("%w: writer WAL %s is damaged and valid records follow the damage; cutting it there would drop them (WriterOptions.WALRecovery = WALRecoveryTruncateAtCorruption does): %w",
			ErrCorruption, dir, err)
	}
	if errors.Is(err, wal.ErrCorruption) {
		return nil, fmt.Errorf("%w: writer WAL %s: %w", ErrCorruption, dir, err)
	}
	if err != nil {
		return nil, err
	}
	w := &writerWAL{log: log, strict: mode == wal.SyncStrict, cut: cut}
	w.cond = sync.NewCond(&w.mu)
	w.durable = log.NextSeq(walStream)
	return w, nil
}

// records returns every record of the log, ordered by epoch (version 1 records, epoch 0,
// first), then sequence number.
func (w *writerWAL) records() ([]walRecord, error) {
	it, err := w.log.Iter(walStream, 0)
	if errors.Is(err, wal.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []walRecord
	var published wal.SeqNum
	for it.Next() {
		if b := it.Entry(); len(b) > 0 && b[0] == walMarkerPublished {
			below, n := binary.Uvarint(b[1:])
			if n <= 0 || n != len(b)-1 {
				return nil, fmt.Errorf("entry %d: %w: writer WAL marker: bad length", it.ID(), ErrCorruption)
			}
			published = max(published, wal.SeqNum(below))
			continue
		}
		rs, err := decodeWALEntry(it.Entry())
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", it.ID(), err)
		}
		for _, r := range rs {
			r.id = it.ID()
			r.key, r.value = append([]byte(nil), r.key...), append([]byte(nil), r.value...)
			out = append(out, r)
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(r walRecord) bool { return r.id < published })
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].epoch != out[j].epoch {
			return out[i].epoch < out[j].epoch
		}
		return out[i].seq < out[j].seq
	})
	return out, nil
}

// append logs a record; the caller holds the writer's mutex. It returns the record's WAL
// id, for waitDurable.
func (w *writerWAL) append(r walRecord) (wal.SeqNum, error) {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return 0, err
	}
	r.epoch = w.epoch
	w.buf = r.appendTo(w.buf[:0])
	return w.log.Append(walStream, w.buf)
}

// waitDurable returns once record id is on stable storage (strict mode), leading an
// fsync for everyone waiting when none is in flight.
func (w *writerWAL) waitDurable(id wal.SeqNum) error {
	if !w.strict {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.durable <= id {
		if w.err != nil {
			return w.err
		}
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		target := w.log.NextSeq(walStream)
		w.mu.Unlock()
		err := w.log.Sync()
		w.mu.Lock()
		w.syncing = false
		if err != nil {
			w.err = fmt.Errorf("isledb: writer WAL sync: %w", err)
		} else if target > w.durable {
			w.durable = target
		}
		w.cond.Broadcast()
	}
	return nil
}

// markPublished logs that every record below id below is published. Safe for concurrent
// use with append.
func (w *writerWAL) markPublished(below wal.SeqNum) error {
	var b [1 + binary.MaxVarintLen64]byte
	b[0] = walMarkerPublished
	n := binary.PutUvarint(b[1:], uint64(below))
	_, err := w.log.Append(walStream, b[:1+n])
	return err
}

// nextID is the WAL id the next record will get; records of a frozen memtable all have
// ids below the value taken when it was frozen.
func (w *writerWAL) nextID() wal.SeqNum { return w.log.NextSeq(walStream) }

// published records that every record below id below is in the manifest: it drops the
// segments holding only such records and, with mark, logs a published marker (segments go
// whole, so some of those records may stay; the marker keeps replay from judging them).
func (w *writerWAL) published(below wal.SeqNum, mark bool) error {
	_, err := w.log.Truncate(walStream, below)
	if errors.Is(err, wal.ErrStreamNotFound) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	if mark {
		if err := w.markPublished(below); err != nil {
			return fmt.Errorf("mark records published: %w", err)
		}
	}
	return nil
}

func (w *writerWAL) close() error { return w.log.Close() }
