package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
)

// lockFileName is the lock file in RootPath that keeps a second process out.
const lockFileName = ".lock"

// WAL is a write-ahead log of independent, named streams. All methods are safe for concurrent
// use. Appends to one stream are serialized (and, in SyncStrict mode, share fsyncs); appends
// to different streams proceed in parallel. Reads never block appends for long.
type WAL struct {
	opts    Options
	lock    *os.File
	handles *handleCache
	blocks  *blockCache // nil when BlockCacheSize is 0
	metrics metrics
	closed  atomic.Bool

	mu struct {
		sync.RWMutex
		streams map[string]*stream
	}
}

// Open opens (creating if needed) the WAL in opts.RootPath and recovers every stream found
// there: the tail of each stream's active segment is checked, and a torn or corrupt tail is
// cut or reported as opts.OnCorruption says. Only one WAL may have a root directory open at
// a time; a second Open in another process fails with ErrLocked.
func Open(opts Options) (*WAL, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.RootPath, 0o755); err != nil {
		return nil, ioErr("create root directory", opts.RootPath, err)
	}
	lock, err := lockFile(filepath.Join(opts.RootPath, lockFileName))
	if err != nil {
		return nil, err
	}
	w := &WAL{
		opts:    opts,
		lock:    lock,
		handles: newHandleCache(opts.MaxOpenSegments, opts.ReadStrategy == ReadMmap && mmapSupported),
	}
	if opts.BlockCacheSize > 0 {
		w.blocks = newBlockCache(opts.BlockCacheSize)
	}
	w.mu.streams = make(map[string]*stream)
	ents, err := os.ReadDir(opts.RootPath)
	if err != nil {
		lock.Close()
		return nil, ioErr("read root directory", opts.RootPath, err)
	}
	for _, e := range ents {
		if !e.IsDir() || ValidateStreamName(e.Name()) != nil {
			continue // not a stream: the lock file, or something of the caller's
		}
		s, err := openStream(w, e.Name())
		if err != nil {
			w.closeStreams()
			lock.Close()
			return nil, fmt.Errorf("wal: recovering stream %q: %w", e.Name(), err)
		}
		w.mu.streams[e.Name()] = s
	}
	return w, nil
}

// Append appends entry to stream, creating the stream on first use, and returns the entry's
// sequence number. In SyncStrict mode it returns once the entry is on stable storage; see
// SyncMode for the others. The WAL does not retain entry.
//
// An error other than ErrInvalidStreamName, ErrEntryTooLarge or ErrClosed means a write or
// fsync failed: the entry may or may not be durable, and the stream refuses further writes
// until the WAL is reopened (which recovers a consistent state).
func (w *WAL) Append(stream string, entry []byte) (SeqNum, error) {
	s, err := w.streamForWrite(stream)
	if err != nil {
		return 0, err
	}
	one := [1][]byte{entry}
	strict := w.opts.SyncMode == SyncStrict
	r, err := s.write(one[:], strict)
	if err != nil {
		return 0, err
	}
	if strict {
		if err := s.waitDurable(r.End); err != nil {
			return 0, err
		}
	}
	return r.Start, nil
}

// AppendBatch appends entries to stream as one atomic unit and returns the range of sequence
// numbers assigned, in order. After a crash either every entry of the batch is present or
// none is. In SyncStrict and SyncBatchOnly modes it returns once the batch is on stable
// storage. A batch is never split across segments. An empty batch writes nothing and returns
// an empty range at NextSeq. The WAL does not retain entries.
func (w *WAL) AppendBatch(stream string, entries [][]byte) (Range, error) {
	if len(entries) == 0 {
		if err := ValidateStreamName(stream); err != nil {
			return Range{}, err
		}
		n := w.NextSeq(stream)
		return Range{Start: n, End: n}, nil
	}
	s, err := w.streamForWrite(stream)
	if err != nil {
		return Range{}, err
	}
	durable := w.opts.SyncMode != SyncAsync
	r, err := s.write(entries, durable)
	if err != nil {
		return Range{}, err
	}
	if durable {
		if err := s.waitDurable(r.End); err != nil {
			return Range{}, err
		}
	}
	return r, nil
}

// Writer returns a transaction writer that collects entries for stream in memory and appends
// them as one atomic batch on Commit. The stream name is checked on Commit.
func (w *WAL) Writer(stream string) *TxnWriter {
	return &TxnWriter{w: w, stream: stream}
}

// Get returns a copy of entry id of stream. It returns an error matching ErrNotFound if id
// was never assigned or was removed by Truncate, and ErrStreamNotFound for an unknown stream.
func (w *WAL) Get(stream string, id SeqNum) ([]byte, error) {
	s, err := w.lookup(stream)
	if err != nil {
		return nil, err
	}
	return s.get(id)
}

// Iter returns an iterator over the entries of stream from sequence number start up to the
// last entry appended before the call. If start precedes the first entry still present
// (because of Truncate), iteration begins at that first entry: check Iterator.ID. A start at
// or past the end gives an empty iterator. The caller must Close the iterator.
func (w *WAL) Iter(stream string, start SeqNum) (*Iterator, error) {
	s, err := w.lookup(stream)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.mu.err != nil && s.mu.err != ErrClosed {
		err := s.mu.err
		s.mu.Unlock()
		return nil, err
	}
	if err := s.flushLocked(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	end := s.mu.next
	s.mu.Unlock()
	if first := s.segments()[0].start; start < first {
		start = first
	}
	return &Iterator{s: s, next: start, end: end}, nil
}

// Truncate deletes the segments of stream whose entries all precede safeID, and returns how
// many it deleted. It deletes whole segments only, so entries below safeID may remain; it
// never deletes the active segment, nor any entry at or after safeID.
func (w *WAL) Truncate(stream string, safeID SeqNum) (int, error) {
	s, err := w.lookup(stream)
	if err != nil {
		return 0, err
	}
	return s.truncateBefore(safeID)
}

// CurrentSegmentStartID returns the sequence number at which stream's active segment starts,
// and false if the stream does not exist.
func (w *WAL) CurrentSegmentStartID(stream string) (SeqNum, bool) {
	s, err := w.lookup(stream)
	if err != nil {
		return 0, false
	}
	segs := s.segments()
	return segs[len(segs)-1].start, true
}

// NextSeq returns the sequence number the next entry appended to stream will get: the number
// of entries ever appended to it. It is 0 for a stream that does not exist.
func (w *WAL) NextSeq(stream string) SeqNum {
	s, err := w.lookup(stream)
	if err != nil {
		return 0
	}
	return SeqNum(s.nextSeq.Load())
}

// Streams returns the names of all streams, sorted.
func (w *WAL) Streams() []string {
	w.mu.RLock()
	names := make([]string, 0, len(w.mu.streams))
	for n := range w.mu.streams {
		names = append(names, n)
	}
	w.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Sync writes out and fsyncs every stream, so that everything appended before the call is on
// stable storage whatever the SyncMode.
func (w *WAL) Sync() error {
	if w.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for _, s := range w.allStreams() {
		errs = append(errs, s.waitDurable(SeqNum(s.nextSeq.Load())))
	}
	return errors.Join(errs...)
}

// Close writes out and fsyncs every stream and closes all files. Iterators still open keep
// the segment they are reading until they are closed. Close is idempotent; other methods
// return ErrClosed afterwards.
func (w *WAL) Close() error {
	if !w.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := w.closeStreams()
	return errors.Join(err, w.lock.Close())
}

func (w *WAL) closeStreams() error {
	var errs []error
	for _, s := range w.allStreams() {
		errs = append(errs, s.close())
	}
	w.handles.closeAll()
	return errors.Join(errs...)
}

func (w *WAL) allStreams() []*stream {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]*stream, 0, len(w.mu.streams))
	for _, s := range w.mu.streams {
		out = append(out, s)
	}
	return out
}

// lookup returns an existing stream.
func (w *WAL) lookup(name string) (*stream, error) {
	if w.closed.Load() {
		return nil, ErrClosed
	}
	w.mu.RLock()
	s := w.mu.streams[name]
	w.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	if err := ValidateStreamName(name); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %q", ErrStreamNotFound, name)
}

// streamForWrite returns the stream, creating it if needed.
func (w *WAL) streamForWrite(name string) (*stream, error) {
	if w.closed.Load() {
		return nil, ErrClosed
	}
	w.mu.RLock()
	s := w.mu.streams[name]
	w.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	if err := ValidateStreamName(name); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.mu.streams[name]; s != nil {
		return s, nil
	}
	if w.closed.Load() {
		return nil, ErrClosed
	}
	s, err := createStream(w, name)
	if err != nil {
		return nil, err
	}
	w.mu.streams[name] = s
	return s, nil
}
