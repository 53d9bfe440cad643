package compaction

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/mergeiter"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// Input is one sorted input of a merge: a single L0 SST, or the SSTs of a sorted run in key
// order.
type Input struct {
	SSTs []manifest.SSTMeta
}

// Job is one merge.
type Job struct {
	// Inputs are the merged SSTs. Their sequence numbers must be unique across inputs (the
	// writer assigns each mutation its own), which makes their order irrelevant.
	Inputs []Input
	// Bottom says the output is the oldest data for its key range: nothing older holds any
	// of its keys. Only then are tombstones and expired entries dropped.
	Bottom bool
	// Now is the time against which expiry is judged, in unix nanoseconds. Default: the
	// start of Run.
	Now int64
}

// Options configure Run.
type Options struct {
	// Store holds the inputs, and receives the outputs.
	Store *blobstore.Store
	// SST configures the output SSTs.
	SST sstable.WriterOptions
	// TargetSize: an output SST is finished once its estimated size reaches it. Required.
	TargetSize int64
	// VerifyChecksums checks every input's SHA-256 against its manifest checksum.
	VerifyChecksums bool
	// VerifySignature, when set, checks every input's signature before it is read.
	VerifySignature func(hash []byte, sig *manifest.SSTSignature) error
	// Sign, when set, signs every output's SHA-256.
	Sign func(hash []byte) (*manifest.SSTSignature, error)
	// NewID returns the id of a new output SST whose largest sequence number is seqHi.
	// Required.
	NewID func(seqHi uint64) string
	// Epoch is recorded in the outputs' metadata: the compactor fence's epoch.
	Epoch uint64
	// Buffers, when set, recycles output buffers across runs.
	Buffers *Buffers
	// ReadBudget bounds the bytes of input chunks held at once (two per input being read);
	// the chunk size is ReadBudget / (2 × inputs), clamped to [MinChunkSize, MaxChunkSize].
	// Default: DefaultReadBudget.
	ReadBudget int64
}

// Bounds of the input chunk size, and the default read budget.
const (
	MinChunkSize      = 64 << 10
	MaxChunkSize      = 2 << 20
	DefaultReadBudget = 32 << 20
)

// chunkSize returns the chunk size for n inputs.
func (o *Options) chunkSize(n int) int64 {
	budget := o.ReadBudget
	if budget <= 0 {
		budget = DefaultReadBudget
	}
	return min(max(budget/int64(2*max(n, 1)), MinChunkSize), MaxChunkSize)
}

// Stats describe a Run.
type Stats struct {
	InputSSTs  int
	InputBytes int64
	// InputRawBytes is the uncompressed size of the inputs' keys and values.
	InputRawBytes int64
	OutputSSTs    int
	OutputBytes   int64
	// Entries is the number of entries written, Dropped the number of tombstones and
	// expired entries dropped (shadowed versions are not counted).
	Entries, Dropped uint64
	// ReadRequests and BytesRead count the ranged GETs of the inputs; WriteRequests the
	// PUTs of the outputs.
	ReadRequests  int64
	BytesRead     int64
	WriteRequests int64
	Duration      time.Duration
}

// Result is what Run produced.
type Result struct {
	// Outputs are the uploaded SSTs, sorted by key and not overlapping.
	Outputs []manifest.SSTMeta
	// Attempted are the ids of every output whose upload was started, Outputs included: on
	// failure the caller deletes them (a failed upload may still have landed).
	Attempted []string
	Stats     Stats
}

// Run merges the job's inputs into new SSTs and uploads them (see the package doc). On
// error the Result lists the outputs attempted so far, for the caller to delete.
func Run(ctx context.Context, job Job, opts Options) (*Result, error) {
	if opts.Store == nil || opts.NewID == nil || opts.TargetSize <= 0 {
		return nil, errors.New("compaction: Store, NewID and TargetSize are required")
	}
	start := time.Now()
	if job.Now == 0 {
		job.Now = start.UnixNano()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := &Result{}
	stats := &ioStats{}
	o := &opener{
		ctx: ctx, store: opts.Store, chunk: opts.chunkSize(len(job.Inputs)),
		verify: opts.VerifyChecksums, verifySignature: opts.VerifySignature, stats: stats,
	}
	var maxSeq uint64
	inputs := make([]mergeiter.Input, 0, len(job.Inputs))
	for _, in := range job.Inputs {
		for _, s := range in.SSTs {
			maxSeq = max(maxSeq, s.SeqHi)
			res.Stats.InputSSTs++
			res.Stats.InputBytes += s.Size
		}
		inputs = append(inputs, o.newRunIter(in.SSTs))
	}
	out := &outputs{ctx: ctx, opts: &opts, res: res}
	it := mergeiter.New(inputs, mergeiter.Options{Mode: mergeiter.ModeNewest, Now: job.Now})
	var err error
	for ok := it.First(); ok; ok = it.Next() {
		kind, expiry := it.Kind(), it.Expiry()
		// The newest entry of all inputs is always kept, so that the output's largest
		// sequence number is the inputs' and Manifest.MaxSeqNum, where a new writer
		// resumes numbering, never goes back.
		if job.Bottom && droppable(kind, expiry, job.Now) && uint64(it.Seq()) != maxSeq {
			res.Stats.Dropped++
			continue
		}
		e := sstable.Entry{Key: it.Key(), Value: it.Value(), Seq: it.Seq(), Kind: kind, Expiry: expiry}
		if err = out.add(e); err != nil {
			break
		}
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = out.finish()
	} else {
		out.abort()
	}
	res.Stats.ReadRequests = stats.reads.Load()
	res.Stats.BytesRead = stats.bytesRead.Load()
	res.Stats.InputRawBytes = stats.rawBytes.Load()
	res.Stats.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("compaction: %w", err)
	}
	return res, nil
}

// droppable reports whether an entry that is the newest of its key may be dropped when
// nothing older lies below it: a tombstone whose TTL (if any) has passed, or an expired value.
func droppable(kind base.Kind, expiry, now int64) bool {
	if kind == base.KindDelete {
		return expiry == 0 || mergeiter.Expired(expiry, now)
	}
	return mergeiter.Expired(expiry, now)
}

// outputs builds the output SSTs one at a time and uploads each while the next is built.
type outputs struct {
	ctx  context.Context
	opts *Options
	res  *Result

	w       *sstable.Writer
	buf     *bytes.Buffer // the SST being built
	spare   *bytes.Buffer // free, or the one being uploaded
	pending chan error    // the upload in flight, or nil
	meta    manifest.SSTMeta
}

func (o *outputs) add(e sstable.Entry) error {
	if o.w == nil {
		if o.buf == nil {
			o.buf = o.opts.Buffers.get()
			// Room for a whole output, but no more than the inputs could fill.
			o.buf.Grow(int(min(o.opts.TargetSize+o.opts.TargetSize/8, o.res.Stats.InputBytes+64<<10, 1<<30)))
		}
		o.buf.Reset()
		w, err := sstable.NewWriter(o.buf, o.opts.SST)
		if err != nil {
			return err
		}
		o.w = w
	}
	if err := o.w.Add(e); err != nil {
		return err
	}
	o.res.Stats.Entries++
	if o.w.EstimatedSize() >= o.opts.TargetSize {
		return o.cut()
	}
	return nil
}

// cut finishes the SST being built and starts its upload, after the previous one's.
func (o *outputs) cut() error {
	md, err := o.w.Finish()
	o.w = nil
	if err != nil {
		return err
	}
	meta := MetaOf(md, o.opts.NewID(uint64(md.SeqHi)), o.opts.Epoch, 1)
	if o.opts.Sign != nil {
		sig, err := o.opts.Sign(md.SHA256[:])
		if err != nil {
			return fmt.Errorf("sign sst %s: %w", meta.ID, err)
		}
		meta.Signature = sig
	}
	if err := o.wait(); err != nil {
		return err
	}
	data := o.buf.Bytes()
	o.buf, o.spare = o.spare, o.buf
	o.meta = meta
	o.res.Attempted = append(o.res.Attempted, meta.ID)
	o.res.Stats.WriteRequests++
	ch := make(chan error, 1)
	o.pending = ch
	store, key := o.opts.Store, o.opts.Store.SSTPath(meta.ID)
	go func() {
		_, err := store.Write(o.ctx, key, data)
		ch <- err
	}()
	return nil
}

// wait waits for the upload in flight and records its output.
func (o *outputs) wait() error {
	if o.pending == nil {
		return nil
	}
	err := <-o.pending
	o.pending = nil
	if err != nil {
		return fmt.Errorf("write sst %s: %w", o.meta.ID, err)
	}
	o.res.Outputs = append(o.res.Outputs, o.meta)
	o.res.Stats.OutputSSTs++
	o.res.Stats.OutputBytes += o.meta.Size
	return nil
}

func (o *outputs) finish() error {
	if o.w != nil && o.w.EntryCount() > 0 {
		if err := o.cut(); err != nil {
			o.abort()
			return err
		}
	}
	err := o.wait()
	o.release()
	return err
}

// abort waits for an upload in flight (its result does not matter any more). The buffers
// are left to the garbage collector: an SST writer that failed may still hold one.
func (o *outputs) abort() { _ = o.wait() }

// release returns the buffers for reuse; no upload and no SST writer may be using them.
func (o *outputs) release() {
	o.opts.Buffers.put(o.buf)
	o.opts.Buffers.put(o.spare)
	o.buf, o.spare = nil, nil
}

// Buffers keeps output buffers for reuse by later merges. A fresh buffer the size of an
// output costs a page fault per page on first touch, about a fifth of a merge's CPU time in
// BenchmarkCompaction; kept buffers cost the memory of two outputs while they are kept.
// A nil *Buffers keeps nothing. Safe for concurrent use.
type Buffers struct {
	mu       sync.Mutex
	free     []*bytes.Buffer
	lastUsed time.Time
}

func (b *Buffers) get() *bytes.Buffer {
	if b == nil {
		return new(bytes.Buffer)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastUsed = time.Now()
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		buf.Reset()
		return buf
	}
	return new(bytes.Buffer)
}

func (b *Buffers) put(buf *bytes.Buffer) {
	if b == nil || buf == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) < 2 {
		b.free = append(b.free, buf)
	}
}

// ReleaseIdle drops the kept buffers if none was taken in the last idle.
func (b *Buffers) ReleaseIdle(idle time.Duration) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.lastUsed) >= idle {
		b.free = nil
	}
}

// MetaOf returns the manifest's description of an SST built with the given id under
// the given fence epoch, at level (0 for a writer's flush, 1 for a compaction output).
func MetaOf(md *sstable.Metadata, id string, epoch uint64, level int) manifest.SSTMeta {
	return manifest.SSTMeta{
		ID: id, Epoch: epoch, SeqLo: uint64(md.SeqLo), SeqHi: uint64(md.SeqHi),
		MinKey: md.MinKey, MaxKey: md.MaxKey, Size: md.Size, Checksum: md.Checksum,
		Bloom:     manifest.BloomMeta{BitsPerKey: md.BloomBitsPerKey, HashCount: md.BloomProbes, Keys: md.EntryCount},
		CreatedAt: md.CreatedAt, Level: level, HasBlobRefs: md.HasBlobRefs,
		EntryCount: md.EntryCount, TombstoneCount: md.Properties.TombstoneCount,
	}
}
