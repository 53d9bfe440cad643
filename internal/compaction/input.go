package compaction

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/mergeiter"
	"github.com/isledb/isledb/internal/runiter"
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

// newRunIter yields the entries of a sequence of SSTs whose key ranges do not overlap (a
// sorted run, or a single L0 SST) in internal order, opening one SST at a time and reading it
// front to back (SeekGE reads forward too). When verifying, each SST's checksum is checked as
// soon as its entries are exhausted, and a mismatch stops the iteration with a corruption
// error.
func (o *opener) newRunIter(ssts []manifest.SSTMeta) *runiter.Iter {
	return runiter.New(streamedRun{o: o, ssts: ssts}, runiter.Options{ScanSeek: true})
}

// streamedRun is a sorted run whose SSTs are streamed from the bucket; leaving one read to
// its end verifies it.
type streamedRun struct {
	o    *opener
	ssts []manifest.SSTMeta
}

func (r streamedRun) Len() int { return len(r.ssts) }

func (r streamedRun) Bounds(i int) ([]byte, []byte) { return r.ssts[i].MinKey, r.ssts[i].MaxKey }

func (r streamedRun) Open(i int, _, _ []byte) (*sstable.Iterator, func(bool) error, error) {
	t, err := r.o.open(&r.ssts[i])
	if err != nil {
		return nil, nil, err
	}
	done := func(exhausted bool) error {
		if exhausted {
			return t.finish(r.o.ctx, r.o.verify)
		}
		t.abandon()
		return nil
	}
	return t.r.NewIter(r.o.ctx, sstable.IterOptions{}), done, nil
}

var _ mergeiter.Input = (*runiter.Iter)(nil)
