package isledb

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// Change is one write as the change feed reports it.
type Change struct {
	// Seq is the write's sequence number: changes arrive in ascending Seq order, which is
	// the order the writer accepted them.
	Seq uint64
	Key []byte
	// Value is the written value (nil for a delete).
	Value []byte
	// Delete reports a delete (Delete or DeleteWithTTL).
	Delete bool
	// ExpiresAt is when the write expires (PutWithTTL, DeleteWithTTL); zero: never.
	ExpiresAt time.Time
}

// Changes calls handler with every write (put or delete) of the reader's manifest version
// whose sequence number is at least opts.FromSeq, in sequence order, and returns the
// sequence number to resume from (the newest sequence number of the version, plus one).
// With ReaderOpenOptions.ReadBucketWAL it goes on with the writes of the bucket WAL past
// the manifest, as far as their sequence numbers follow without a gap.
//
// Unlike Tail, the feed reports every write: keys that sort below earlier ones, and every
// overwrite. Writes still in L0 (not yet compacted) are all there; compaction keeps only
// the newest version of each key, so a consumer that falls behind a compaction sees the
// newest version of each key it missed, not every intermediate one.
func (r *Reader) Changes(ctx context.Context, opts ChangeOptions, handler func(Change) error) (next uint64, err error) {
	if r.closed.Load() {
		return opts.FromSeq, ErrClosed
	}
	next, err = r.changesOf(ctx, r.cur.Load(), opts, handler)
	if err == nil && r.opts.ReadBucketWAL {
		next, err = r.walChanges(ctx, next, opts, handler)
	}
	return next, err
}

func (r *Reader) changesOf(ctx context.Context, m *manifest.Manifest, opts ChangeOptions, handler func(Change) error) (uint64, error) {
	from := max(opts.FromSeq, 1)
	var cands []manifest.SSTMeta
	for s := range m.SSTs() {
		if s.SeqHi >= from && overlaps(s.MinKey, s.MaxKey, opts.MinKey, opts.MaxKey) {
			cands = append(cands, *s)
		}
	}
	next := max(from, m.MaxSeqNum()+1)
	sort.Slice(cands, func(i, j int) bool { return cands[i].SeqLo < cands[j].SeqLo })
	// SSTs whose sequence ranges overlap (compaction outputs) are read together; L0 SSTs
	// of one writer never overlap, so each is read alone and memory stays at one SST.
	for i := 0; i < len(cands); {
		j, hi := i+1, cands[i].SeqHi
		for j < len(cands) && cands[j].SeqLo <= hi {
			hi = max(hi, cands[j].SeqHi)
			j++
		}
		if err := r.emitChanges(ctx, cands[i:j], from, opts, handler); err != nil {
			return from, err
		}
		i = j
	}
	return next, nil
}

// emitChanges delivers the writes of a group of SSTs at or after from, in sequence order.
func (r *Reader) emitChanges(ctx context.Context, group []manifest.SSTMeta, from uint64, opts ChangeOptions, handler func(Change) error) error {
	type raw struct {
		seq    uint64
		kind   base.Kind
		key    []byte
		value  []byte
		expiry int64
	}
	var all []raw
	for _, s := range group {
		it := r.tables.NewTableIter(ctx, s, opts.MinKey, opts.MaxKey)
		for ok := it.First(); ok; ok = it.Next() {
			if uint64(it.Seq()) >= from {
				all = append(all, raw{uint64(it.Seq()), it.Kind(), bytes.Clone(it.Key()), bytes.Clone(it.Value()), it.Expiry()})
			}
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("isledb: changes: %w", err)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	for _, e := range all {
		c := Change{Seq: e.seq, Key: e.key}
		if e.expiry != 0 {
			c.ExpiresAt = time.Unix(0, e.expiry)
		}
		switch e.kind {
		case base.KindDelete:
			c.Delete = true
		case base.KindBlobRef:
			v, err := r.blobValue(ctx, e.value)
			if err != nil {
				return fmt.Errorf("isledb: changes: key %q: %w", e.key, err)
			}
			c.Value = v
		default:
			c.Value = e.value
		}
		if err := handler(c); err != nil {
			return err
		}
	}
	return nil
}

// TailChanges delivers the change feed (see Reader.Changes) from opts.FromSeq, now and as
// new flushes become visible, until handler returns an error (returned), ctx ends
// (ctx.Err()) or the reader is stopped (ErrTailingReaderStopped). Each write is delivered
// once, in sequence order; to resume after a restart, pass the last delivered Seq + 1.
func (t *TailingReader) TailChanges(ctx context.Context, opts ChangeOptions, handler func(Change) error) error {
	next := opts.FromSeq
	return t.follow(ctx, opts.PollInterval, func() error {
		o := opts
		o.FromSeq = next
		n, err := t.r.changesOf(ctx, t.r.cur.Load(), o, handler)
		if err == nil && t.r.opts.ReadBucketWAL {
			n, err = t.r.walChanges(ctx, n, o, handler)
		}
		next = n
		return err
	})
}
