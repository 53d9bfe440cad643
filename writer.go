package isledb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/bucketwal"
	"github.com/isledb/isledb/internal/compaction"
	"github.com/isledb/isledb/internal/gc"
	"github.com/isledb/isledb/internal/memtable"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
	"github.com/isledb/isledb/wal"
)

// Writer is the database's single writer. It buffers writes in a memtable and flushes
// them to the bucket as SSTs; see the package doc for durability. Its methods are safe
// for concurrent use.
type Writer struct {
	db      *DB
	store   *blobstore.Store
	ms      *manifest.Store
	opts    WriterOptions
	sstOpts sstable.WriterOptions
	fence   *manifest.FenceToken
	wal     *writerWAL           // nil without WriterOptions.WALDir
	bwal    *bucketwal.Committer // nil without WriterOptions.BucketWAL (writer_bucketwal.go)
	bwalBuf []byte               // record encoding scratch for bwal, guarded by mu
	replay  WALReplayStats
	txns    txnState       // transactions (txn.go), guarded by mu
	pool    *memtable.Pool // recycles the memtables' memory (writer_recycle.go)
	sstBuf  []byte         // the last flushed SST's buffer, for the next build (flush goroutine)

	kick chan struct{} // wakes the flush loop
	stop chan struct{} // closed to end the flush loop
	wg   sync.WaitGroup

	mu struct {
		sync.Mutex
		active      *memtable.Memtable
		activeSince time.Time
		immutables  []*frozen // oldest first
		nextSeq     base.SeqNum
		flushedSeq  base.SeqNum // every write up to it is in the manifest
		flushErr    error       // the last failed attempt's error, until a flush succeeds
		errGen      uint64      // counts failed attempts
		terminal    error       // the writer stopped for good
		closed      bool
		changed     chan struct{} // closed and replaced whenever the above change
	}
}

// frozen is a memtable waiting for its flush. Its SST is built once; retries only send.
type frozen struct {
	mt      *memtable.Memtable
	lastSeq base.SeqNum
	walNext wal.SeqNum // WAL records of this memtable and older ones have smaller ids
	built   *builtSST
	// appendTried: a manifest append of this SST failed, so it may have landed anyway
	// (and even been compacted away since): check before appending again.
	appendTried bool
}

type builtSST struct {
	id    string
	data  []byte
	meta  manifest.SSTMeta
	blobs []pendingBlob
}

type pendingBlob struct {
	id    string
	value []byte
}

// OpenWriter claims the writer role and returns the writer. A writer that held the role
// before is fenced: its next flush fails with manifest.ErrFenced and it publishes nothing
// more (a fenced writer's Flush and Close never report success for writes that are not in
// the manifest; with a WAL those writes stay in its log). Sequence numbers continue after
// the manifest's largest.
//
// With WALDir, OpenWriter then replays the log: each record carries the epoch of the writer
// that logged it, and the manifest records where each recent writer epoch ended
// (manifest.WriterTenure). Writes of the writer this one directly succeeds are re-added
// as they were; unpublished writes of an older writer are re-added after everything
// published unless a later writer wrote the same key (then a replay would shadow the newer
// write, and they are skipped as superseded); records whose fate cannot be told fail
// OpenWriter with ErrWALStale unless DiscardUnresolvedWAL. WALReplayStats reports what was
// done; docs/format.md ("Writer WAL records") states the rules.
func (db *DB) OpenWriter(ctx context.Context, opts WriterOptions) (*Writer, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	// The WAL is opened and read before the claim: a damaged log fails OpenWriter without
	// fencing the writer that holds the role.
	var (
		wl   *writerWAL
		recs []walRecord
		err  error
	)
	if opts.WALDir != "" {
		if wl, err = openWriterWAL(opts.WALDir, opts.WALSyncMode, opts.WALRecovery); err != nil {
			return nil, fmt.Errorf("isledb: open writer: WAL: %w", err)
		}
		if recs, err = wl.records(); err != nil {
			_ = wl.close()
			if errors.Is(err, wal.ErrCorruption) && !errors.Is(err, ErrCorruption) {
				err = fmt.Errorf("%w: %w", ErrCorruption, err)
			}
			return nil, fmt.Errorf("isledb: open writer: read WAL: %w", err)
		}
	}
	ms := db.newManifestStore()
	fence, err := ms.ClaimWriter(ctx, opts.OwnerID)
	if err != nil {
		if wl != nil {
			_ = wl.close()
		}
		return nil, fmt.Errorf("isledb: open writer: claim: %w", err)
	}
	m, err := ms.Replay(ctx)
	if err != nil {
		if wl != nil {
			_ = wl.close()
		}
		return nil, fmt.Errorf("isledb: open writer: replay manifest: %w", err)
	}
	w := &Writer{
		db: db, store: db.store, ms: ms, opts: opts, fence: fence, wal: wl,
		sstOpts: sstWriterOptions(opts.BlockSize, opts.BloomBitsPerKey, opts.Compression),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		pool:    newMemtablePool(opts),
	}
	w.mu.active = w.newMemtable()
	w.mu.nextSeq = base.SeqNum(m.MaxSeqNum()) + 1
	w.mu.flushedSeq = w.mu.nextSeq - 1
	w.mu.changed = make(chan struct{})
	if wl != nil {
		wl.epoch = fence.Epoch
	}
	if err := db.register(w); err != nil {
		w.closeWAL()
		return nil, err
	}
	opts.Metrics.attach(w)
	w.wg.Add(1)
	go w.flushLoop()
	if w.wal != nil {
		if err := w.replayWAL(ctx, m, recs); err != nil {
			_ = w.Close()
			return nil, err
		}
	}
	if opts.BucketWAL != BucketWALOff {
		if err := w.recoverBucketWAL(ctx, m); err != nil {
			_ = w.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *Writer) closeWAL() {
	if w.wal != nil {
		_ = w.wal.close()
	}
}

// Fence returns the writer's fence token.
func (w *Writer) Fence() *FenceToken { f := *w.fence; return &f }

// Put writes value under key.
func (w *Writer) Put(key, value []byte) error {
	return w.write(base.KindValue, key, value, 0)
}

// PutWithTTL writes value under key, invisible to reads once ttl has passed.
func (w *Writer) PutWithTTL(key, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: %v", ErrInvalidTTL, ttl)
	}
	return w.write(base.KindValue, key, value, time.Now().Add(ttl).UnixNano())
}

// Delete deletes key: reads no longer see any value written before.
func (w *Writer) Delete(key []byte) error {
	return w.write(base.KindDelete, key, nil, 0)
}

// DeleteWithTTL deletes key like Delete; after ttl compaction may drop the tombstone
// together with the older versions it hides (see the package doc).
func (w *Writer) DeleteWithTTL(key []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: %v", ErrInvalidTTL, ttl)
	}
	return w.write(base.KindDelete, key, nil, time.Now().Add(ttl).UnixNano())
}

// checkKV validates a write before anything is buffered or logged: a write it accepts can
// be logged and flushed. Validate already keeps the options within the formats' limits
// (config.KeySizeLimit, config.InlineValueSizeLimit, MaxValueSizeWithWAL); checkKV checks
// the limits too, so that no write gets through that would fail every flush.
func (w *Writer) checkKV(key, value []byte) error {
	vs := w.opts.ValueStorage
	switch {
	case len(key) == 0:
		return ErrEmptyKey
	case len(key) > vs.MaxKeySize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLarge, len(key), vs.MaxKeySize)
	case int64(len(value)) > vs.MaxValueSize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, len(value), vs.MaxValueSize)
	case w.wal != nil && len(value) > MaxValueSizeWithWAL:
		return fmt.Errorf("%w: %d bytes, limit %d with a WAL", ErrValueTooLarge, len(value), MaxValueSizeWithWAL)
	}
	return unstorable(vs.ValueOptions, key, value)
}

// unstorable returns why an entry could never be flushed as vs stores values (a key above
// config.KeySizeLimit, or a value kept inline above config.InlineValueSizeLimit), or nil.
func unstorable(vs config.ValueOptions, key, value []byte) error {
	switch {
	case len(key) > config.KeySizeLimit:
		return fmt.Errorf("%w: %d bytes, the SST format's limit is %d", ErrKeyTooLarge, len(key), config.KeySizeLimit)
	case !vs.StoresAsBlob(len(value)) && len(value) > config.InlineValueSizeLimit:
		return fmt.Errorf("%w: %d bytes below the blob threshold, the SST format's inline limit is %d", ErrValueTooLarge, len(value), config.InlineValueSizeLimit)
	}
	return nil
}

func (w *Writer) write(kind base.Kind, key, value []byte, expiry int64) error {
	if err := w.checkKV(key, value); err != nil {
		return err
	}
	size := memtable.EntrySize(len(key), len(value))
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	act := w.mu.active
	if !act.Empty() && act.Size()+size > w.opts.MemtableSize {
		if len(w.mu.immutables) >= w.opts.MaxImmutableMemtables {
			w.mu.Unlock()
			w.observeRefused()
			return ErrBackpressure
		}
		w.rotateLocked()
		act = w.mu.active
	}
	seq := w.mu.nextSeq
	var walID wal.SeqNum
	if w.wal != nil {
		id, err := w.wal.append(walRecord{seq: seq, kind: kind, expiry: expiry, key: key, value: value})
		if err != nil {
			w.mu.Unlock()
			return fmt.Errorf("isledb: write-ahead log: %w", err)
		}
		walID = id
	}
	if w.bwal != nil {
		if err := w.logBucketLocked(walRecord{seq: seq, kind: kind, expiry: expiry, key: key, value: value}); err != nil {
			w.mu.Unlock()
			return err
		}
	}
	if act.Empty() {
		w.mu.activeSince = time.Now()
	}
	act.Add(seq, kind, key, value, expiry)
	w.noteWriteLocked(seq, kind, key, value, expiry)
	w.mu.nextSeq++
	w.mu.Unlock()
	w.observeWrite(kind, key, value)
	if w.wal != nil {
		// Acknowledge only once the log holds the write (strict mode).
		if err := w.wal.waitDurable(walID); err != nil {
			return fmt.Errorf("isledb: write-ahead log: %w", err)
		}
	}
	return w.waitBucketEach(seq)
}

func (w *Writer) usableLocked() error {
	if w.mu.closed {
		return ErrClosed
	}
	if w.mu.terminal != nil {
		return w.mu.terminal
	}
	return nil
}

// rotateLocked freezes the active memtable and wakes the flush loop.
func (w *Writer) rotateLocked() {
	if w.mu.active.Empty() {
		return
	}
	f := &frozen{mt: w.mu.active, lastSeq: w.mu.nextSeq - 1}
	if w.wal != nil {
		f.walNext = w.wal.nextID()
	}
	w.mu.immutables = append(w.mu.immutables, f)
	w.mu.active = w.newMemtable()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// notifyLocked wakes everyone waiting for a state change.
func (w *Writer) notifyLocked() {
	close(w.mu.changed)
	w.mu.changed = make(chan struct{})
}

// Flush returns once every write made before the call is in the manifest (its SST and
// blobs in the bucket). If a flush attempt fails meanwhile, Flush returns its error; the
// writes stay queued, the writer retries them in the background, and a later Flush
// reports success once they land.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	w.rotateLocked()
	target := w.mu.nextSeq - 1
	w.mu.Unlock()
	return w.waitFlushed(ctx, target)
}

// waitFlushed waits until writes up to target are flushed, a flush attempt fails, or
// the writer stops.
func (w *Writer) waitFlushed(ctx context.Context, target base.SeqNum) error {
	w.mu.Lock()
	gen := w.mu.errGen
	for {
		switch {
		case w.mu.flushedSeq >= target:
			w.mu.Unlock()
			return nil
		case w.mu.terminal != nil:
			err := w.mu.terminal
			w.mu.Unlock()
			return err
		case w.mu.errGen != gen:
			err := w.mu.flushErr
			w.mu.Unlock()
			return fmt.Errorf("isledb: flush: %w", err)
		}
		ch := w.mu.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
}

// Close flushes every buffered write, then stops the writer. If the final flush fails,
// Close returns the error and the unflushed writes are lost.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.mu.closed {
		w.mu.Unlock()
		return nil
	}
	var err error
	if w.mu.terminal == nil {
		w.rotateLocked()
		target := w.mu.nextSeq - 1
		w.mu.Unlock()
		err = w.waitFlushed(context.Background(), target)
		w.mu.Lock()
	} else {
		err = w.mu.terminal
	}
	w.mu.closed = true
	w.notifyLocked()
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
	if w.bwal != nil {
		w.bwal.Close()
	}
	w.opts.Metrics.detach(w)
	w.closeTxns()
	w.releaseMemtables()
	if w.wal != nil {
		if cerr := w.wal.close(); err == nil && cerr != nil {
			err = fmt.Errorf("isledb: close WAL: %w", cerr)
		}
	}
	w.db.unregister(w)
	return err
}

// flushLoop flushes frozen memtables in order and enforces FlushInterval.
func (w *Writer) flushLoop() {
	defer w.wg.Done()
	var tick <-chan time.Time
	if w.opts.FlushInterval > 0 {
		t := time.NewTicker(min(w.opts.FlushInterval/2+1, 100*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	backoff := 50 * time.Millisecond
	var retry <-chan time.Time
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		case <-tick:
			w.mu.Lock()
			if !w.mu.active.Empty() && time.Since(w.mu.activeSince) >= w.opts.FlushInterval {
				w.rotateLocked()
			}
			w.mu.Unlock()
		case <-retry:
			retry = nil
		}
		if retry != nil {
			continue // waiting out a backoff
		}
		err := w.flushQueued()
		switch {
		case err == nil:
			backoff = 50 * time.Millisecond
		case errors.Is(err, manifest.ErrFenced):
			return
		default:
			retry = time.After(backoff)
			backoff = min(backoff*2, 5*time.Second)
		}
	}
}

// flushQueued flushes frozen memtables, oldest first, until none is left or one fails.
func (w *Writer) flushQueued() error {
	for {
		w.mu.Lock()
		if len(w.mu.immutables) == 0 || w.mu.terminal != nil {
			w.mu.Unlock()
			return nil
		}
		f := w.mu.immutables[0]
		w.mu.Unlock()

		err := w.observeFlush(f, func() error { return w.flushOne(context.Background(), f) })
		w.mu.Lock()
		if err != nil {
			w.mu.flushErr = err
			w.mu.errGen++
			if errors.Is(err, manifest.ErrFenced) {
				w.mu.terminal = fmt.Errorf("%w: %w", ErrWriterFailed, err)
			}
			w.notifyLocked()
			w.mu.Unlock()
			w.opts.OnFlushError(err)
			return err
		}
		// Clear the slot: the backing array would otherwise keep f, its memtable and its
		// SST reachable until an append reallocates it. f leaves the queue here, under
		// w.mu, after its flush: the point from which its memory may be recycled.
		w.mu.immutables[0] = nil
		w.mu.immutables = w.mu.immutables[1:]
		w.retireLocked(f)
		w.mu.flushedSeq = f.lastSeq
		w.mu.flushErr = nil
		if w.bwal != nil {
			// Before Flush returns: the next WAL object records the coverage.
			w.bwal.Covered(uint64(f.lastSeq))
		}
		w.notifyLocked()
		w.mu.Unlock()
		if w.wal != nil {
			// The memtable is in the manifest: its log records are no longer needed.
			// Failing to delete them only costs disk space and replay time.
			if err := w.wal.published(f.walNext, true); err != nil {
				w.opts.OnFlushError(fmt.Errorf("isledb: WAL: %w", err))
			}
		}
	}
}

// flushOne writes f's blobs, then its SST, then the manifest entry naming the SST: the
// manifest never refers to an object that is not in the bucket.
func (w *Writer) flushOne(ctx context.Context, f *frozen) error {
	if f.built == nil {
		b, err := w.build(f.mt)
		if err != nil {
			return err
		}
		f.built = b
	}
	b := f.built
	guard, err := w.uploadBlobs(ctx, b.blobs)
	if err != nil {
		return err
	}
	if f.appendTried {
		landed, err := w.landedEarlier(ctx, &b.meta)
		if err != nil {
			return fmt.Errorf("isledb: flush: check an earlier attempt of sst %s: %w", b.id, err)
		}
		if landed {
			return nil
		}
	}
	if _, err := w.store.Write(ctx, w.store.SSTPath(b.id), b.data); err != nil {
		return fmt.Errorf("isledb: flush: write sst %s: %w", b.id, err)
	}
	if err := w.recheckBlobs(ctx, guard); err != nil {
		return err
	}
	f.appendTried = true
	if _, err := w.ms.AppendAddSSTableWithFence(ctx, b.meta); err != nil {
		if errors.Is(err, manifest.ErrSSTExists) {
			return nil // an earlier attempt of this flush landed
		}
		return fmt.Errorf("isledb: flush: add sst %s to the manifest: %w", b.id, err)
	}
	return nil
}

// landedEarlier reports whether an earlier, failed manifest append of sst landed after all.
// It judges by the writer's epoch, never by sequence numbers alone: while this writer holds
// the fence, only it produces sequence numbers above the previous writer's and compaction
// never lowers the manifest's largest, so the SST landed if the manifest's largest covers
// it. Once another writer has claimed the role, the manifest's largest also counts that
// writer's writes; what this writer published is then what the manifest's writer history
// records for its epoch (manifest.WriterTenure). If the history no longer holds the epoch,
// the outcome is unknown and reported as an error wrapping manifest.ErrFenced.
func (w *Writer) landedEarlier(ctx context.Context, sst *manifest.SSTMeta) (bool, error) {
	m, err := w.ms.ReplayFrom(ctx, w.ms.Current())
	if err != nil {
		return false, err
	}
	epoch := w.fence.Epoch
	if m.WriterFence != nil && m.WriterFence.Epoch == epoch {
		return m.MaxSeqNum() >= sst.SeqHi, nil
	}
	t, ok := m.WriterTenure(epoch)
	if !ok {
		return false, fmt.Errorf("%w: writer epoch %d was superseded and the manifest no longer records what it published", manifest.ErrFenced, epoch)
	}
	return sst.SeqHi <= t.EndSeq, nil
}

// build encodes a memtable as an SST, moving values at or over the blob threshold out to
// blobs.
func (w *Writer) build(mt *memtable.Memtable) (*builtSST, error) {
	// SSTs are smaller than their memtable (no per-entry node overhead, prefix-compressed
	// keys, compressed blocks); the buffer grows if the guess is short. It is the last
	// flushed SST's buffer when that is large enough (writer_recycle.go).
	buf := bytes.NewBuffer(w.takeSSTBuffer(int(mt.Size() / 2)))
	sw, err := sstable.NewWriter(buf, w.sstOpts)
	if err != nil {
		return nil, err
	}
	vs := w.opts.ValueStorage
	var blobs []pendingBlob
	var refBuf [blobref.Size]byte
	it := mt.NewIterator()
	for ok := it.First(); ok; ok = it.Next() {
		e := it.Entry()
		se := e
		if e.Kind == base.KindValue && vs.StoresAsBlob(len(e.Value)) {
			ref := blobref.Of(e.Value)
			blobs = append(blobs, pendingBlob{id: ref.ID(), value: e.Value})
			se.Kind, se.Value = base.KindBlobRef, ref.Append(refBuf[:0])
		}
		if err := sw.Add(se); err != nil {
			return nil, fmt.Errorf("isledb: flush: build sst: %w", err)
		}
	}
	md, err := sw.Finish()
	if err != nil {
		return nil, fmt.Errorf("isledb: flush: build sst: %w", err)
	}
	id := base.NewSSTID(w.fence.Epoch, uint64(md.SeqHi))
	meta := compaction.MetaOf(md, id, w.fence.Epoch, 0)
	if s := w.opts.Signer; s != nil {
		if meta.Signature, err = signSST(s, md.SHA256[:]); err != nil {
			return nil, fmt.Errorf("isledb: flush: sign sst %s: %w", id, err)
		}
	}
	return &builtSST{id: id, data: buf.Bytes(), meta: meta, blobs: blobs}, nil
}

// blobUploadConcurrency bounds the blob PUTs of one flush in flight.
const blobUploadConcurrency = 8

// uploadBlobs writes each blob once (put-if-absent: an existing blob has the same content),
// inside the writer's side of the blob GC protocol (internal/gc/blob.go: W0 here, W1, then W2 and W3
// in keepBlobs), all before the SST that refers to the blobs is uploaded.
func (w *Writer) uploadBlobs(ctx context.Context, blobs []pendingBlob) (*blobGuard, error) {
	if len(blobs) == 0 {
		return nil, nil
	}
	seen := make(map[string]bool, len(blobs))
	unique := make([]pendingBlob, 0, len(blobs))
	for _, b := range blobs {
		if !seen[b.id] {
			seen[b.id] = true
			unique = append(unique, b)
		}
	}
	hashes := make([][32]byte, 0, len(unique))
	for _, b := range unique {
		if h, ok := gc.BlobIDHash(b.id); ok {
			hashes = append(hashes, h)
		}
	}
	// W0: what blob GC is deleting before the blobs are put.
	doomed0, deleted0, err := gc.ClaimBlobs(ctx, w.db.gcmarks, w.db.store, w.db.logger, hashes)
	if err != nil {
		return nil, fmt.Errorf("isledb: flush: keep blobs from blob GC: %w", err)
	}
	var mu sync.Mutex
	reused := map[string]bool{}
	err = forEachBlob(unique, func(b pendingBlob) error {
		_, err := w.store.WriteIfNotExist(ctx, w.store.BlobPath(b.id), b.value)
		if errors.Is(err, blobstore.ErrPreconditionFailed) {
			mu.Lock()
			reused[b.id] = true
			mu.Unlock()
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	deleted, err := w.keepBlobs(ctx, unique, hashes, reused, doomed0, deleted0)
	if err != nil {
		return nil, err
	}
	return &blobGuard{blobs: unique, hashes: hashes, deleted: deleted}, nil
}

// blobGuard is what a flush attempt's uploadBlobs saw, for the look it takes again once
// the SST is in the bucket.
type blobGuard struct {
	blobs   []pendingBlob
	hashes  [][32]byte
	deleted uint64 // blob GC's count of deleted blobs at the last look
}

// recheck runs steps W2 and W3 again after the SST referring to the blobs was uploaded and
// before its manifest append. Blob GC lists SST objects before it dooms a blob: a listing
// made after the upload sees the reference, and a doom decided on an earlier listing is
// stored by compare-and-swap before this look (the writer then sees the blob doomed, or
// the deleted count changed, and puts it back) or fails against the state this look
// changes. So no time bound on the flush is needed.
func (w *Writer) recheckBlobs(ctx context.Context, g *blobGuard) error {
	if g == nil {
		return nil
	}
	_, err := w.keepBlobs(ctx, g.blobs, g.hashes, nil, nil, g.deleted)
	return err
}

// keepBlobs runs steps W2 and W3 of the blob GC protocol (internal/gc/blob.go) for the blobs of a
// flush (hashes: theirs), of which those in reused existed before it; doomed0 and deleted0
// are what W0 saw. It takes the blobs back from blob GC's candidates, waits (at most
// gc.MaxDoomedWait) for the deletion of any that are doomed to finish, and then puts back any
// blob blob GC may have deleted.
func (w *Writer) keepBlobs(ctx context.Context, blobs []pendingBlob, hashes [][32]byte, reused map[string]bool, doomed0 [][32]byte, deleted0 uint64) (uint64, error) {
	check := map[[32]byte]bool{} // blobs seen doomed
	for _, h := range doomed0 {
		check[h] = true
	}
	wait := 10 * time.Millisecond
	deadline := time.Now().Add(gc.MaxDoomedWait)
	var deleted uint64
	for {
		doomed, n, err := gc.ClaimBlobs(ctx, w.db.gcmarks, w.db.store, w.db.logger, hashes)
		if err != nil {
			return 0, fmt.Errorf("isledb: flush: keep blobs from blob GC: %w", err)
		}
		deleted = n
		if len(doomed) == 0 {
			break
		}
		for _, h := range doomed {
			check[h] = true
		}
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("isledb: flush: %w: %d blob(s) still doomed after %v", gc.ErrBlobBeingDeleted, len(doomed), gc.MaxDoomedWait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
	var again []pendingBlob
	for _, b := range blobs {
		if h, _ := gc.BlobIDHash(b.id); reused[b.id] || check[h] || deleted != deleted0 {
			again = append(again, b)
		}
	}
	return deleted, forEachBlob(again, func(b pendingBlob) error {
		key := w.store.BlobPath(b.id)
		ok, err := w.store.Exists(ctx, key)
		if err != nil || ok {
			return err
		}
		_, err = w.store.WriteIfNotExist(ctx, key, b.value)
		if errors.Is(err, blobstore.ErrPreconditionFailed) {
			return nil // put back meanwhile (same content)
		}
		return err
	})
}

// forEachBlob runs fn on each blob, blobUploadConcurrency at a time, and returns the first
// error, naming the blob.
func forEachBlob(blobs []pendingBlob, fn func(pendingBlob) error) error {
	sem := make(chan struct{}, blobUploadConcurrency)
	errc := make(chan error, len(blobs))
	var wg sync.WaitGroup
	for _, b := range blobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(b); err != nil {
				errc <- fmt.Errorf("isledb: flush: write blob %s: %w", b.id, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc // nil when the channel is empty
}
