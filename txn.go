package isledb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/wal"
)

var (
	// ErrConflict reports that a transaction cannot commit (or read) consistently: a key it
	// wrote (and, with Serializable, a key it read or a range it scanned) was written by
	// another commit after the transaction began. Nothing of the transaction was applied;
	// run it again.
	ErrConflict = errors.New("isledb: transaction conflict")

	// ErrTxnDone reports use of a transaction after Commit or Rollback.
	ErrTxnDone = errors.New("isledb: transaction already committed or rolled back")
)

// Txn is an optimistic transaction of a Writer (Writer.Begin). It reads the database as it
// was when it began (every write acknowledged before Begin, none after) plus its own
// writes, buffers its writes, and applies them at Commit as one batch, all-or-nothing,
// unless another commit conflicts (ErrConflict). A Txn is not safe for concurrent use; many
// transactions may run at once. Call Commit or Rollback to end it (Rollback after Commit
// is a no-op, so `defer txn.Rollback()` is safe).
//
// Reads of a key that another commit wrote after the transaction began fail at once with
// ErrConflict, under both isolation levels: the transaction could never commit a decision
// based on them under Serializable, and the version it should see is no longer held.
type Txn struct {
	w      *Writer
	snap   *Snapshot
	opts   TxnOptions
	begin  base.SeqNum // the transaction sees the writes up to it
	view   base.SeqNum // its snapshot holds the writes up to it; the writer's recent writes the rest
	writes map[string]txnWrite
	reads  map[string]struct{}
	ranges []keyRange
	done   bool
	seq    base.SeqNum // the last sequence number of its writes, once committed
}

type txnWrite struct {
	kind   base.Kind
	value  []byte
	expiry int64
}

type keyRange struct{ lo, hi []byte } // inclusive; nil unbounded

func (kr keyRange) contains(k []byte) bool {
	return (kr.lo == nil || bytes.Compare(k, kr.lo) >= 0) && (kr.hi == nil || bytes.Compare(k, kr.hi) <= 0)
}

// txnState is what the writer keeps for its transactions, guarded by w.mu (the reader by
// readerMu).
type txnState struct {
	on bool // tracking started (the first Begin)
	// recent holds the newest write of every key written with a sequence number above
	// floor, so that transactions can see writes their snapshot does not hold yet and
	// check conflicts. Entries at or below every active transaction's view and the
	// flushed sequence number are pruned.
	recent  map[string]recentWrite
	floor   base.SeqNum
	pruneAt int
	active  map[*Txn]struct{}

	readerMu  sync.Mutex
	reader    *Reader // private, reading the writer's database; opened by the first Begin
	readerDir string  // its temporary cache directory, if it has one
}

type recentWrite struct {
	seq    base.SeqNum
	kind   base.Kind
	value  []byte
	expiry int64
}

// minPruneAt is the size of the recent-writes table below which it is never pruned.
const minPruneAt = 1024

// noteWriteLocked records a write for the transactions; the caller holds w.mu. It does
// nothing until the first Begin.
func (w *Writer) noteWriteLocked(seq base.SeqNum, kind base.Kind, key, value []byte, expiry int64) {
	t := &w.txns
	if !t.on {
		return
	}
	t.recent[string(key)] = recentWrite{seq: seq, kind: kind, value: bytes.Clone(value), expiry: expiry}
	if len(t.recent) >= t.pruneAt {
		cutoff := w.mu.flushedSeq
		for x := range t.active {
			cutoff = min(cutoff, x.view)
		}
		for k, r := range t.recent {
			if r.seq <= cutoff {
				delete(t.recent, k)
			}
		}
		t.floor = max(t.floor, cutoff)
		t.pruneAt = max(minPruneAt, 2*len(t.recent))
	}
}

// Begin starts a snapshot-isolation transaction (see Txn). It may refresh the writer's
// private reader, and the first Begin of a writer flushes once.
func (w *Writer) Begin(ctx context.Context) (*Txn, error) {
	return w.BeginWithOptions(ctx, TxnOptions{})
}

// BeginWithOptions starts a transaction with opts.
func (w *Writer) BeginWithOptions(ctx context.Context, opts TxnOptions) (*Txn, error) {
	r, err := w.txnReader(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		snap, err := r.Snapshot()
		if err != nil {
			return nil, err
		}
		w.mu.Lock()
		if err := w.usableLocked(); err != nil {
			w.mu.Unlock()
			_ = snap.Close()
			return nil, err
		}
		t := &w.txns
		if !t.on {
			// From now on every write is noted; the ones before are at or below floor and
			// must be in the snapshot.
			t.on, t.recent, t.active, t.pruneAt = true, map[string]recentWrite{}, map[*Txn]struct{}{}, minPruneAt
			t.floor = w.mu.nextSeq - 1
		}
		if view := base.SeqNum(snap.Seq()); view >= t.floor {
			x := &Txn{w: w, snap: snap, opts: opts, begin: w.mu.nextSeq - 1, view: view,
				writes: map[string]txnWrite{}, reads: map[string]struct{}{}}
			t.active[x] = struct{}{}
			w.mu.Unlock()
			return x, nil
		}
		w.mu.Unlock()
		_ = snap.Close()
		// The snapshot misses writes the recent table no longer (or never did) hold.
		switch attempt {
		case 0:
		case 1:
			if err := w.Flush(ctx); err != nil {
				return nil, fmt.Errorf("isledb: begin: %w", err)
			}
		default:
			return nil, fmt.Errorf("isledb: begin: the writer's reader stays behind the writer's flushed writes")
		}
		if err := r.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("isledb: begin: %w", err)
		}
	}
}

// txnReader returns the writer's private reader, opening it on first use.
func (w *Writer) txnReader(ctx context.Context) (*Reader, error) {
	t := &w.txns
	t.readerMu.Lock()
	defer t.readerMu.Unlock()
	if t.reader != nil {
		return t.reader, nil
	}
	opts := DefaultReaderOpenOptions()
	if w.opts.TxnReader != nil {
		opts = *w.opts.TxnReader
		opts.EnsureDefaults()
	} else {
		opts.CacheDir = ""
	}
	var tmp string // a temporary cache directory, removed by closeTxns
	if opts.CacheDir == "" {
		dir, err := os.MkdirTemp("", "isledb-txn-reader-")
		if err != nil {
			return nil, fmt.Errorf("isledb: begin: %w", err)
		}
		opts.CacheDir, tmp = dir, dir
	}
	opts.ManifestStorage = w.db.mstorage
	r, err := OpenReader(ctx, w.store, opts)
	if err != nil {
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
		return nil, fmt.Errorf("isledb: begin: %w", err)
	}
	t.reader, t.readerDir = r, tmp
	return r, nil
}

// closeTxns closes the private reader of the writer's transactions (Writer.Close).
func (w *Writer) closeTxns() {
	t := &w.txns
	t.readerMu.Lock()
	defer t.readerMu.Unlock()
	if t.reader != nil {
		_ = t.reader.Close()
		if t.readerDir != "" {
			_ = os.RemoveAll(t.readerDir)
		}
		t.reader = nil
	}
}

func (x *Txn) end() {
	x.done = true
	x.w.mu.Lock()
	delete(x.w.txns.active, x)
	x.w.mu.Unlock()
	_ = x.snap.Close()
}

// Get returns the value of key as the transaction sees it: its own write of key if any,
// else the database as of Begin. It fails with ErrConflict if another commit wrote key
// after Begin.
func (x *Txn) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	if x.done {
		return nil, false, ErrTxnDone
	}
	if wr, ok := x.writes[string(key)]; ok {
		if wr.kind == base.KindDelete || expired(wr.expiry, x.snap.now) {
			return nil, false, nil
		}
		return bytes.Clone(wr.value), true, nil
	}
	x.reads[string(key)] = struct{}{}
	x.w.mu.Lock()
	rw, ok := x.w.txns.recent[string(key)]
	x.w.mu.Unlock()
	switch {
	case ok && rw.seq > x.begin:
		return nil, false, fmt.Errorf("%w: key %.64q was written after the transaction began", ErrConflict, key)
	case ok && rw.seq > x.view:
		if rw.kind == base.KindDelete || expired(rw.expiry, x.snap.now) {
			return nil, false, nil
		}
		return bytes.Clone(rw.value), true, nil
	}
	return x.snap.Get(ctx, key)
}

// Scan returns every pair with minKey <= key <= maxKey (nil bounds are unbounded) as the
// transaction sees it, in key order. It fails with ErrConflict if another commit wrote a
// key of the range after Begin. It costs a pass over the writer's recent writes (those not
// yet flushed, or newer than the oldest open transaction).
func (x *Txn) Scan(ctx context.Context, minKey, maxKey []byte) ([]KV, error) {
	if x.done {
		return nil, ErrTxnDone
	}
	kr := keyRange{lo: bytes.Clone(minKey), hi: bytes.Clone(maxKey)}
	x.ranges = append(x.ranges, kr)
	kvs, err := x.snap.Scan(ctx, minKey, maxKey)
	if err != nil {
		return nil, err
	}
	// Overlay the recent writes the snapshot misses, then the transaction's own.
	over := map[string]txnWrite{}
	x.w.mu.Lock()
	for k, rw := range x.w.txns.recent {
		if rw.seq <= x.view || !kr.contains([]byte(k)) {
			continue
		}
		if rw.seq > x.begin {
			x.w.mu.Unlock()
			return nil, fmt.Errorf("%w: key %.64q was written after the transaction began", ErrConflict, k)
		}
		over[k] = txnWrite{kind: rw.kind, value: rw.value, expiry: rw.expiry}
	}
	x.w.mu.Unlock()
	for k, wr := range x.writes {
		if kr.contains([]byte(k)) {
			over[k] = wr
		}
	}
	if len(over) == 0 {
		return kvs, nil
	}
	out := kvs[:0:0]
	for _, kv := range kvs {
		if _, ok := over[string(kv.Key)]; !ok {
			out = append(out, kv)
		}
	}
	for k, wr := range over {
		if wr.kind != base.KindDelete && !expired(wr.expiry, x.snap.now) {
			out = append(out, KV{Key: []byte(k), Value: bytes.Clone(wr.value)})
		}
	}
	slices.SortFunc(out, func(a, b KV) int { return bytes.Compare(a.Key, b.Key) })
	return out, nil
}

// Put buffers a write of value under key, checked as Writer.Put checks it.
func (x *Txn) Put(key, value []byte) error { return x.write(base.KindValue, key, value, 0) }

// PutWithTTL buffers a write of value under key that expires ttl after the call.
func (x *Txn) PutWithTTL(key, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: %v", ErrInvalidTTL, ttl)
	}
	return x.write(base.KindValue, key, value, time.Now().Add(ttl).UnixNano())
}

// Delete buffers a delete of key.
func (x *Txn) Delete(key []byte) error { return x.write(base.KindDelete, key, nil, 0) }

func (x *Txn) write(kind base.Kind, key, value []byte, expiry int64) error {
	if x.done {
		return ErrTxnDone
	}
	if err := x.w.checkKV(key, value); err != nil {
		return err
	}
	x.writes[string(key)] = txnWrite{kind: kind, value: bytes.Clone(value), expiry: expiry}
	return nil
}

// Commit checks for conflicts and applies the transaction's writes as one batch (see
// Writer.Apply): all of them, or none with an error. It fails with ErrConflict if another
// commit wrote, after Begin, a key this transaction wrote (or, with Serializable, read or
// scanned). Whatever the outcome the transaction is over, except after ErrBackpressure
// (retry Commit later) and ErrBatchTooLarge (the writes stay; Rollback or trim them).
func (x *Txn) Commit(ctx context.Context) error {
	if x.done {
		return ErrTxnDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := x.w
	keys := make([]string, 0, len(x.writes))
	for k := range x.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := w.NewBatch()
	for _, k := range keys {
		wr := x.writes[k]
		b.add(wr.kind, []byte(k), wr.value, wr.expiry)
	}
	var memSize int64
	if b.n > 0 {
		var err error
		if memSize, err = w.checkBatch(b); err != nil {
			return err
		}
	}
	w.mu.Lock()
	if err := x.conflictLocked(keys); err != nil {
		w.mu.Unlock()
		x.end()
		return err
	}
	var err error
	if b.n > 0 {
		var id wal.SeqNum
		id, err = w.applyLocked(b, memSize)
		last := w.mu.nextSeq - 1
		w.mu.Unlock()
		if errors.Is(err, ErrBackpressure) {
			return err
		}
		if err == nil && w.wal != nil {
			if werr := w.wal.waitDurable(id); werr != nil {
				err = fmt.Errorf("isledb: write-ahead log: %w", werr)
			}
		}
		if err == nil {
			err = w.waitBucketEach(last)
		}
		if err == nil {
			x.seq = last
		}
	} else {
		if err = w.usableLocked(); err == nil {
			x.seq = x.begin
		}
		w.mu.Unlock()
	}
	x.end()
	return err
}

// conflictLocked returns ErrConflict if a key of written, or with Serializable a key read
// or in a range scanned, was written after the transaction began; the caller holds w.mu.
func (x *Txn) conflictLocked(written []string) error {
	recent := x.w.txns.recent
	after := func(k string) bool { rw, ok := recent[k]; return ok && rw.seq > x.begin }
	for _, k := range written {
		if after(k) {
			return fmt.Errorf("%w: key %.64q, written by this transaction, was written by another commit after it began", ErrConflict, k)
		}
	}
	if !x.opts.Serializable {
		return nil
	}
	for k := range x.reads {
		if after(k) {
			return fmt.Errorf("%w: key %.64q, read by this transaction, was written by another commit after it began", ErrConflict, k)
		}
	}
	if len(x.ranges) > 0 {
		for k, rw := range recent {
			if rw.seq <= x.begin {
				continue
			}
			for _, kr := range x.ranges {
				if kr.contains([]byte(k)) {
					return fmt.Errorf("%w: key %.64q, in a range this transaction scanned, was written by another commit after it began", ErrConflict, k)
				}
			}
		}
	}
	return nil
}

// CommitSeq returns, after a successful Commit, the sequence number of the transaction's
// last write (its position in the commit order; for a transaction that wrote nothing, the
// last sequence number it saw), else 0.
func (x *Txn) CommitSeq() uint64 { return uint64(x.seq) }

// Rollback ends the transaction without applying anything. It returns nil after Commit.
func (x *Txn) Rollback() error {
	if x.done {
		return nil
	}
	x.end()
	return nil
}
