package compaction

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/mergeiter"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// opener opens input SSTs for streaming.
type opener struct {
	ctx             context.Context
	store           *blobstore.Store
	chunk           int64
	verify          bool
	verifySignature func(hash []byte, sig *manifest.SSTSignature) error
	stats           *ioStats
}

// table is one open input SST.
type table struct {
	meta *manifest.SSTMeta
	src  *streamSource
	r    *sstable.Reader
}

func (o *opener) open(meta *manifest.SSTMeta) (*table, error) {
	key := o.store.SSTPath(meta.ID)
	if o.verifySignature != nil {
		digest, err := checksumDigest(meta.Checksum)
		if err != nil {
			return nil, base.CorruptionErrorf(key, -1, "%v", err)
		}
		if err := o.verifySignature(digest, meta.Signature); err != nil {
			return nil, fmt.Errorf("compaction: sst %s: signature: %w", meta.ID, err)
		}
	}
	src := newStreamSource(o.ctx, o.store, key, meta.Size, o.chunk, o.verify, o.stats)
	r, err := sstable.Open(o.ctx, src, sstable.ReaderOptions{Object: key})
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("compaction: open sst %s: %w", meta.ID, err)
	}
	p := r.Properties()
	o.stats.rawBytes.Add(int64(p.RawKeySize + p.RawValueSize))
	return &table{meta: meta, src: src, r: r}, nil
}

// finish checks the table's checksum (when verifying) and closes it.
func (t *table) finish(ctx context.Context, verify bool) error {
	var err error
	if verify {
		err = t.src.Verify(ctx, t.meta.Checksum)
	}
	_ = t.r.Close()
	t.src.Close()
	return err
}

func (t *table) abandon() {
	_ = t.r.Close()
	t.src.Close()
}

// checksumDigest decodes "sha256:<hex>".
func checksumDigest(s string) ([]byte, error) {
	h, ok := strings.CutPrefix(s, sstable.ChecksumPrefix)
	if !ok || len(h) != 64 {
		return nil, fmt.Errorf("checksum %q is not sha256:<64 hex digits>", s)
	}
	return hex.DecodeString(h)
}

// runIter yields the entries of a sequence of SSTs whose key ranges do not overlap (a sorted
// run, or a single L0 SST) in internal order, opening one SST at a time and reading it front
// to back. When VerifyChecksums is set, each SST's checksum is checked as soon as its entries
// are exhausted, and a mismatch stops the iteration with a corruption error. It implements
// mergeiter.Input.
type runIter struct {
	o    *opener
	ssts []manifest.SSTMeta
	idx  int
	t    *table
	it   *sstable.Iterator
	err  error
}

var _ mergeiter.Input = (*runIter)(nil)

func (o *opener) newRunIter(ssts []manifest.SSTMeta) *runIter {
	return &runIter{o: o, ssts: ssts, idx: -1}
}

// closeTable finishes the current SST; verified says whether it was read to its end.
func (r *runIter) closeTable(exhausted bool) {
	if r.t == nil {
		return
	}
	if err := r.it.Close(); err != nil && r.err == nil {
		r.err = err
	}
	if exhausted && r.err == nil {
		r.err = r.t.finish(r.o.ctx, r.o.verify)
	} else {
		r.t.abandon()
	}
	r.t, r.it = nil, nil
}

// settle moves forward through the SSTs until the iterator is at an entry or exhausted.
func (r *runIter) settle(ok bool) bool {
	for !ok {
		if r.it != nil {
			r.closeTable(true)
		}
		if r.err != nil || r.idx+1 >= len(r.ssts) {
			r.idx = len(r.ssts)
			return false
		}
		r.idx++
		t, err := r.o.open(&r.ssts[r.idx])
		if err != nil {
			r.err = err
			return false
		}
		r.t, r.it = t, t.r.NewIter(r.o.ctx, sstable.IterOptions{})
		ok = r.it.First()
	}
	return true
}

// First moves to the first entry.
func (r *runIter) First() bool {
	r.closeTable(false)
	r.idx = -1
	return r.settle(false)
}

// SeekGE moves to the first entry whose user key is at least key, by reading forward from
// the first entry (compactions never seek; this keeps every input read front to back).
func (r *runIter) SeekGE(key []byte) bool {
	ok := r.First()
	for ok && bytes.Compare(r.Key(), key) < 0 {
		ok = r.Next()
	}
	return ok
}

// Next moves to the next entry.
func (r *runIter) Next() bool {
	if r.it == nil {
		return false
	}
	return r.settle(r.it.Next())
}

// Valid reports whether the iterator is at an entry.
func (r *runIter) Valid() bool { return r.it != nil && r.it.Valid() }

// Key returns the current user key.
func (r *runIter) Key() []byte { return r.it.Key() }

// Value returns the current value.
func (r *runIter) Value() []byte { return r.it.Value() }

// Seq returns the current sequence number.
func (r *runIter) Seq() base.SeqNum { return r.it.Seq() }

// Kind returns the current kind.
func (r *runIter) Kind() base.Kind { return r.it.Kind() }

// Expiry returns the current expiry.
func (r *runIter) Expiry() int64 { return r.it.Expiry() }

// Err returns the first error met.
func (r *runIter) Err() error { return r.err }

// Close releases the open SST.
func (r *runIter) Close() error {
	r.closeTable(false)
	r.idx = len(r.ssts)
	return r.err
}
