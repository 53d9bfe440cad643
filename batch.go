package isledb

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/isledb/isledb/internal/base"
)

// Batch is a set of writes that Writer.Apply applies all-or-nothing: every reader sees all
// of them or none, and after a crash the WAL holds all of them or none. Build one with
// Writer.NewBatch; Put, PutWithTTL, Delete and DeleteWithTTL copy their key and value, so
// the caller may reuse its buffers at once. Writes of one batch take effect in the order
// they were added (a later write of a key wins). A Batch is not safe for concurrent use,
// and is not changed by Apply: Reset it to reuse it.
type Batch struct {
	ops []byte // the encoded writes, as the batch's WAL record holds them (batchOp)
	n   int    // the number of writes
	// err is the first write refused as it was added (an invalid TTL), with its index;
	// Apply returns it and applies nothing.
	err error
}

// The largest encoding of a batch record's header: version, epoch and count uvarints, seq.
const batchHeaderMaxSize = 1 + binary.MaxVarintLen64 + 8 + binary.MaxVarintLen64

// Put adds a write of value under key.
func (b *Batch) Put(key, value []byte) { b.add(base.KindValue, key, value, 0) }

// PutWithTTL adds a write of value under key, invisible to reads once ttl has passed (the
// expiry time is taken now, as Writer.PutWithTTL takes it when called). A ttl that is zero
// or negative makes Apply refuse the batch with ErrInvalidTTL.
func (b *Batch) PutWithTTL(key, value []byte, ttl time.Duration) {
	if ttl <= 0 {
		b.refuse(fmt.Errorf("%w: %v", ErrInvalidTTL, ttl))
		return
	}
	b.add(base.KindValue, key, value, time.Now().Add(ttl).UnixNano())
}

// Delete adds a delete of key.
func (b *Batch) Delete(key []byte) { b.add(base.KindDelete, key, nil, 0) }

// DeleteWithTTL adds a delete of key like Writer.DeleteWithTTL: after ttl compaction may
// drop the tombstone with the older versions it hides. A ttl that is zero or negative
// makes Apply refuse the batch with ErrInvalidTTL.
func (b *Batch) DeleteWithTTL(key []byte, ttl time.Duration) {
	if ttl <= 0 {
		b.refuse(fmt.Errorf("%w: %v", ErrInvalidTTL, ttl))
		return
	}
	b.add(base.KindDelete, key, nil, time.Now().Add(ttl).UnixNano())
}

// Len returns the number of writes in the batch (a write refused as it was added, for an
// invalid TTL, is not counted).
func (b *Batch) Len() int { return b.n }

// Size returns the bytes the batch takes as a WAL record (header included), the measure
// WriterOptions.MaxBatchSize limits. An empty batch has size 0.
func (b *Batch) Size() int64 {
	if b.n == 0 {
		return 0
	}
	return int64(batchHeaderMaxSize + len(b.ops))
}

// Reset empties the batch, keeping its buffer for reuse.
func (b *Batch) Reset() { b.ops, b.n, b.err = b.ops[:0], 0, nil }

func (b *Batch) refuse(err error) {
	if b.err == nil {
		b.err = fmt.Errorf("write %d: %w", b.n, err)
	}
}

func (b *Batch) add(kind base.Kind, key, value []byte, expiry int64) {
	b.ops = appendBatchOp(b.ops, kind, expiry, key, value)
	b.n++
}

// batchOp is one write of a batch.
type batchOp struct {
	kind   base.Kind
	expiry int64
	key    []byte
	value  []byte
}

// The smallest encoded write: kind, expiry and two one-byte lengths.
const batchOpMinSize = 1 + 8 + 1 + 1

// appendBatchOp encodes one write of a batch record (docs/format.md, "Writer WAL records"):
//
//	+------+----------+------------+-----+--------------+-------+
//	| kind | expiry   | key length | key | value length | value |
//	| 1 B  | 8 B (LE) | uvarint    |     | uvarint      |       |
//	+------+----------+------------+-----+--------------+-------+
func appendBatchOp(dst []byte, kind base.Kind, expiry int64, key, value []byte) []byte {
	dst = append(dst, byte(kind))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(expiry))
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// forEachBatchOp decodes n writes from ops, which they must fill exactly, calling fn with
// each (its key and value alias ops). A malformed encoding is an error wrapping
// ErrCorruption.
func forEachBatchOp(ops []byte, n int, fn func(i int, op batchOp) error) error {
	rest := ops
	for i := range n {
		if len(rest) < batchOpMinSize || !base.Kind(rest[0]).Valid() || base.Kind(rest[0]) == base.KindBlobRef {
			return fmt.Errorf("%w: writer WAL batch: write %d: bad header", ErrCorruption, i)
		}
		op := batchOp{kind: base.Kind(rest[0]), expiry: int64(binary.LittleEndian.Uint64(rest[1:]))}
		rest = rest[9:]
		klen, m := binary.Uvarint(rest)
		if m <= 0 || klen > uint64(len(rest)-m) {
			return fmt.Errorf("%w: writer WAL batch: write %d: bad key length", ErrCorruption, i)
		}
		op.key, rest = rest[m:m+int(klen)], rest[m+int(klen):]
		vlen, m := binary.Uvarint(rest)
		if m <= 0 || vlen > uint64(len(rest)-m) {
			return fmt.Errorf("%w: writer WAL batch: write %d: bad value length", ErrCorruption, i)
		}
		op.value, rest = rest[m:m+int(vlen)], rest[m+int(vlen):]
		if err := fn(i, op); err != nil {
			return err
		}
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: writer WAL batch: %d bytes after the last write", ErrCorruption, len(rest))
	}
	return nil
}
