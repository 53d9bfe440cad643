package kv

import (
	"context"
	"fmt"

	"github.com/isledb/isledb"
)

// Batch is a set of typed puts and deletes that Store.Apply applies all-or-nothing: every
// read (Get, scans, snapshots, transactions) sees all of them or none, and after a crash
// or a power cut the store holds all of them or none. Build one with Store.NewBatch. Put
// and Delete copy their key and value, so the caller may reuse its buffers at once; a
// later write of a key in the same batch wins. A Batch is not safe for concurrent use and
// is not changed by Apply: Reset it to reuse it.
//
// A write that cannot be stored (an empty key: ErrEmptyKey; a Value of an unknown type:
// ErrInvalidValue) is refused as it is added: Apply then returns that error, naming the
// write's index, and applies nothing.
type Batch struct {
	b       *isledb.Batch
	buf     []byte // encoding scratch
	puts    int
	deletes int
	err     error // the first write refused as it was added
}

// NewBatch returns an empty batch for Apply.
func (s *Store) NewBatch() *Batch { return &Batch{b: s.w.NewBatch()} }

// Put adds a write of value under key. A tombstone adds a delete of key.
func (b *Batch) Put(key []byte, value Value) {
	switch {
	case !value.Type.Valid():
		b.refuse(fmt.Errorf("%w: %v", ErrInvalidValue, value.Type))
	case value.IsTombstone():
		b.Delete(key)
	case len(key) == 0:
		b.refuse(ErrEmptyKey)
	default:
		b.buf = AppendEncodedValue(b.buf[:0], value)
		b.b.Put(key, b.buf)
		b.puts++
	}
}

// PutInt64 adds a write of an int64 value.
func (b *Batch) PutInt64(key []byte, value int64) { b.Put(key, Int64Value(value)) }

// PutFloat64 adds a write of a float64 value.
func (b *Batch) PutFloat64(key []byte, value float64) { b.Put(key, Float64Value(value)) }

// PutBool adds a write of a bool value.
func (b *Batch) PutBool(key []byte, value bool) { b.Put(key, BoolValue(value)) }

// PutString adds a write of a string value.
func (b *Batch) PutString(key []byte, value string) { b.Put(key, StringValue(value)) }

// PutBytes adds a write of a byte string value.
func (b *Batch) PutBytes(key []byte, value []byte) { b.Put(key, BytesValue(value)) }

// Delete adds a delete of key (deleting a key that does not exist is not an error).
func (b *Batch) Delete(key []byte) {
	if len(key) == 0 {
		b.refuse(ErrEmptyKey)
		return
	}
	b.b.Delete(key)
	b.deletes++
}

// Len returns the number of writes in the batch (refused ones are not counted).
func (b *Batch) Len() int { return b.b.Len() }

// Reset empties the batch, refused writes included, keeping its buffers for reuse.
func (b *Batch) Reset() {
	b.b.Reset()
	b.puts, b.deletes, b.err = 0, 0, nil
}

func (b *Batch) refuse(err error) {
	if b.err == nil {
		b.err = fmt.Errorf("write %d: %w", b.puts+b.deletes, err)
	}
}

// Apply applies the writes of b all-or-nothing, in their order: one batch on the engine,
// hence one write-ahead log record, one memtable, one SST. It returns once the batch is
// acknowledged per WALSyncMode, like Put; a Get right after sees it. Nothing is applied if
// a write was refused as it was added, or if the engine refuses one (a key or value above
// its size limits, a batch above its size limit: the engine's error, such as
// isledb.ErrBatchTooLarge, stays wrapped). An empty or nil batch is a no-op. Like Put,
// Apply waits out backpressure.
func (s *Store) Apply(b *Batch) error {
	if b == nil {
		return nil
	}
	if b.err != nil {
		return fmt.Errorf("kv: apply batch: %w", b.err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if b.Len() == 0 {
		return nil
	}
	err := s.write("apply batch", func() error { return s.w.Apply(context.Background(), b.b) })
	if err == nil {
		s.stats.writes.Add(int64(b.puts))
		s.stats.deletes.Add(int64(b.deletes))
	}
	return err
}
