package kv

import (
	"bytes"
	"context"
	"fmt"

	"github.com/isledb/isledb"
)

// TxnOptions configures a transaction (Store.BeginWithOptions).
type TxnOptions struct {
	// Serializable makes Commit check what the transaction read, not only what it wrote:
	// it fails with ErrConflict if a key it read (Get) or a key in a range it scanned was
	// written by another commit after it began. Committed serializable transactions are
	// then equivalent to running them one at a time in commit order (CommitSeq). Default
	// (false): snapshot isolation, where only the keys it wrote are checked (the first
	// committer wins).
	Serializable bool
}

// Txn is an optimistic transaction of a Store (Store.Begin), built on the engine's
// transactions (isledb.Txn). It reads the store as it was when it began (every write
// acknowledged before Begin, none after) plus its own writes (read-your-writes), buffers
// its writes, and applies them at Commit as one batch, all-or-nothing, unless another
// commit conflicts: Commit then fails with an error matching ErrConflict (and
// isledb.ErrConflict) and applies nothing. Writes made outside transactions (Put, Apply)
// count as commits for the conflict check. A read of a key that another commit wrote after
// Begin fails at once with ErrConflict (the transaction could not commit anyway under
// Serializable, and the version it should see is not kept).
//
// A Txn is not safe for concurrent use; many may run at once. End it with Commit or
// Rollback (Rollback after Commit is a no-op, so `defer txn.Rollback()` is safe); other
// calls after the end fail with ErrTxnDone, and with ErrStoreClosed once the store is
// closed.
type Txn struct {
	s             *Store
	x             *isledb.Txn
	puts, deletes int
	buf           []byte
}

// Begin starts a snapshot-isolation transaction (see Txn). The store's first Begin flushes
// the memtable once.
func (s *Store) Begin() (*Txn, error) { return s.BeginWithOptions(TxnOptions{}) }

// BeginWithOptions starts a transaction with opts.
func (s *Store) BeginWithOptions(opts TxnOptions) (*Txn, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	x, err := s.w.BeginWithOptions(context.Background(), isledb.TxnOptions{Serializable: opts.Serializable})
	if err != nil {
		return nil, translate("begin", err)
	}
	return &Txn{s: s, x: x}, nil
}

// Get returns the value of key as the transaction sees it: its own write of key if any,
// else the store as of Begin; an error matching ErrKeyNotFound if there is none, or
// ErrConflict if another commit wrote key after Begin.
func (t *Txn) Get(key []byte) (Value, error) {
	if len(key) == 0 {
		return Value{}, fmt.Errorf("kv: txn get: %w", ErrEmptyKey)
	}
	if err := t.s.enter(); err != nil {
		return Value{}, err
	}
	defer t.s.leave()
	t.s.stats.reads.Add(1)
	raw, ok, err := t.x.Get(context.Background(), key)
	if err != nil {
		return Value{}, translate(fmt.Sprintf("txn get %q", key), err)
	}
	if !ok {
		return Value{}, fmt.Errorf("kv: txn get %q: %w", key, ErrKeyNotFound)
	}
	v, err := decodeStored(raw)
	if err != nil {
		return Value{}, fmt.Errorf("kv: txn get %q: %w: %w", key, ErrCorruptedData, err)
	}
	return v, nil
}

// GetInt64 returns the int64 value of key; ErrTypeMismatch if it holds another type.
func (t *Txn) GetInt64(key []byte) (int64, error) {
	v, err := t.Get(key)
	v, err = checkType(key, ValueTypeInt64, v, err)
	return v.Int64, err
}

// GetFloat64 returns the float64 value of key; ErrTypeMismatch if it holds another type.
func (t *Txn) GetFloat64(key []byte) (float64, error) {
	v, err := t.Get(key)
	v, err = checkType(key, ValueTypeFloat64, v, err)
	return v.Float64, err
}

// GetBool returns the bool value of key; ErrTypeMismatch if it holds another type.
func (t *Txn) GetBool(key []byte) (bool, error) {
	v, err := t.Get(key)
	v, err = checkType(key, ValueTypeBool, v, err)
	return v.Bool, err
}

// GetString returns the string value of key; ErrTypeMismatch if it holds another type.
func (t *Txn) GetString(key []byte) (string, error) {
	v, err := t.Get(key)
	v, err = checkType(key, ValueTypeString, v, err)
	return string(v.Bytes), err
}

// GetBytes returns the byte string value of key (the caller owns it); ErrTypeMismatch if
// it holds another type.
func (t *Txn) GetBytes(key []byte) ([]byte, error) {
	v, err := t.Get(key)
	v, err = checkType(key, ValueTypeBytes, v, err)
	return v.Bytes, err
}

// Put buffers a write of value under key, checked as Store.Put checks it; a tombstone
// buffers a delete.
func (t *Txn) Put(key []byte, value Value) error {
	if !value.Type.Valid() {
		return fmt.Errorf("kv: txn put: %w: %v", ErrInvalidValue, value.Type)
	}
	if value.IsTombstone() {
		return t.Delete(key)
	}
	if len(key) == 0 {
		return fmt.Errorf("kv: txn put: %w", ErrEmptyKey)
	}
	if err := t.s.enter(); err != nil {
		return err
	}
	defer t.s.leave()
	t.buf = AppendEncodedValue(t.buf[:0], value)
	if err := t.x.Put(key, t.buf); err != nil {
		return translate("txn put", err)
	}
	t.puts++
	return nil
}

// PutInt64 buffers a write of an int64 value.
func (t *Txn) PutInt64(key []byte, value int64) error { return t.Put(key, Int64Value(value)) }

// PutFloat64 buffers a write of a float64 value.
func (t *Txn) PutFloat64(key []byte, value float64) error { return t.Put(key, Float64Value(value)) }

// PutBool buffers a write of a bool value.
func (t *Txn) PutBool(key []byte, value bool) error { return t.Put(key, BoolValue(value)) }

// PutString buffers a write of a string value.
func (t *Txn) PutString(key []byte, value string) error { return t.Put(key, StringValue(value)) }

// PutBytes buffers a write of a byte string value.
func (t *Txn) PutBytes(key []byte, value []byte) error { return t.Put(key, BytesValue(value)) }

// Delete buffers a delete of key.
func (t *Txn) Delete(key []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("kv: txn delete: %w", ErrEmptyKey)
	}
	if err := t.s.enter(); err != nil {
		return err
	}
	defer t.s.leave()
	if err := t.x.Delete(key); err != nil {
		return translate("txn delete", err)
	}
	t.deletes++
	return nil
}

// ScanPrefix calls fn for every key with the given prefix as the transaction sees it, in
// key order, like Store.ScanPrefix (return false to stop). It fails with ErrConflict if
// another commit wrote a key of the range after Begin. fn must not use the transaction.
func (t *Txn) ScanPrefix(prefix []byte, fn func(key []byte, value Value) bool) error {
	return t.scan("txn scan prefix", prefix, prefixEnd(prefix), prefix, fn)
}

// ScanRange is ScanPrefix over [start, end); a nil start or end is unbounded. Under
// Serializable the range checked at Commit is [start, end], end included.
func (t *Txn) ScanRange(start, end []byte, fn func(key []byte, value Value) bool) error {
	if start != nil && end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	return t.scan("txn scan range", start, end, nil, fn)
}

func (t *Txn) scan(op string, start, end, prefix []byte, fn func(key []byte, value Value) bool) error {
	if err := t.s.enter(); err != nil {
		return err
	}
	defer t.s.leave()
	t.s.stats.scans.Add(1)
	kvs, err := t.x.Scan(context.Background(), start, end) // inclusive bounds
	if err != nil {
		return translate(op, err)
	}
	for _, p := range kvs {
		if (end != nil && bytes.Compare(p.Key, end) >= 0) || (prefix != nil && !bytes.HasPrefix(p.Key, prefix)) {
			break
		}
		v, err := decodeStored(p.Value)
		if err != nil {
			return fmt.Errorf("kv: %s: key %q: %w: %w", op, p.Key, ErrCorruptedData, err)
		}
		if !fn(p.Key, v) {
			break
		}
	}
	return nil
}

// Commit checks for conflicts and applies the transaction's writes as one batch (see
// Store.Apply): all of them, or none with an error. It fails with ErrConflict if another
// commit wrote, after Begin, a key this transaction wrote (or, with Serializable, read or
// scanned). Whatever the outcome the transaction is over, except when the engine refuses
// the batch as too large (isledb.ErrBatchTooLarge: the writes stay; Rollback). Like Put,
// Commit waits out backpressure.
func (t *Txn) Commit() error {
	if err := t.s.enter(); err != nil {
		return err
	}
	defer t.s.leave()
	err := t.s.write("commit", func() error { return t.x.Commit(context.Background()) })
	if err == nil {
		t.s.stats.writes.Add(int64(t.puts))
		t.s.stats.deletes.Add(int64(t.deletes))
	}
	return err
}

// CommitSeq returns, after a successful Commit, the transaction's position in the commit
// order: the engine sequence number of its last write (for a transaction that wrote
// nothing, the last one it saw). Before that, or after a failed Commit, it returns 0.
func (t *Txn) CommitSeq() uint64 { return t.x.CommitSeq() }

// Rollback ends the transaction without applying anything. It returns nil after Commit,
// and works on a closed store.
func (t *Txn) Rollback() error { return t.x.Rollback() }
