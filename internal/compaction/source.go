package compaction

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
)

// ioStats counts the requests of the sources of one Run.
type ioStats struct {
	reads     atomic.Int64
	bytesRead atomic.Int64
	rawBytes  atomic.Int64 // key and value bytes of the SSTs opened
}

// streamSource reads one SST object front to back in chunks of a fixed size, fetching the
// next chunk while the current one is consumed. Reads at the sequential cursor are served
// from the chunks; any other read (the footer, index and filter that sstable.Open fetches
// from the end of the file) goes to the bucket directly. Chunks are fetched strictly in file
// order from offset 0, so with a hash they are hashed in order and Verify can check the whole
// file's SHA-256 after reading what remains.
//
// It implements sstable.Source. It is meant for one iterator, but is safe for concurrent use.
type streamSource struct {
	ctx   context.Context // bounds prefetches
	store *blobstore.Store
	key   string
	size  int64
	chunk int64
	stats *ioStats

	mu      sync.Mutex
	buf     []byte // the current chunk: file bytes [off, off+len(buf))
	off     int64
	next    chan chunkResult // the prefetch of the chunk after buf, or nil
	nextOff int64
	hash    hash.Hash // nil: no verification
}

type chunkResult struct {
	data []byte
	err  error
}

var _ sstable.Source = (*streamSource)(nil)

func newStreamSource(ctx context.Context, store *blobstore.Store, key string, size, chunk int64, verify bool, stats *ioStats) *streamSource {
	s := &streamSource{ctx: ctx, store: store, key: key, size: size, chunk: chunk, stats: stats}
	if verify {
		s.hash = sha256.New()
	}
	return s
}

// Size implements sstable.Source.
func (s *streamSource) Size() int64 { return s.size }

// ReadAt implements sstable.Source.
func (s *streamSource) ReadAt(ctx context.Context, p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > s.size {
		return base.CorruptionErrorf(s.key, off, "read of %d bytes past the end of a %d-byte sst", len(p), s.size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		end := s.off + int64(len(s.buf))
		switch {
		case off >= s.off && off < end:
			n := copy(p, s.buf[off-s.off:])
			p, off = p[n:], off+int64(n)
		case off == end:
			if err := s.advanceLocked(ctx); err != nil {
				return err
			}
		default:
			return s.readDirect(ctx, p, off)
		}
	}
	return nil
}

// readDirect reads p at off with one ranged GET, outside the chunk sequence.
func (s *streamSource) readDirect(ctx context.Context, p []byte, off int64) error {
	data, err := s.fetch(ctx, off, int64(len(p)))
	if err != nil {
		return err
	}
	copy(p, data)
	return nil
}

func (s *streamSource) fetch(ctx context.Context, off, n int64) ([]byte, error) {
	s.stats.reads.Add(1)
	data, err := s.store.ReadRange(ctx, s.key, off, n)
	if err != nil {
		return nil, fmt.Errorf("compaction: read %s at %d: %w", s.key, off, err)
	}
	s.stats.bytesRead.Add(int64(len(data)))
	if int64(len(data)) != n {
		return nil, base.CorruptionErrorf(s.key, off, "short read: %d bytes, want %d (object shorter than the manifest says)", len(data), n)
	}
	return data, nil
}

// advanceLocked makes the chunk after buf current (the prefetched one if there is one),
// hashes it, and starts fetching the one after.
func (s *streamSource) advanceLocked(ctx context.Context) error {
	start := s.off + int64(len(s.buf))
	if start >= s.size {
		return base.CorruptionErrorf(s.key, start, "read past the end of a %d-byte sst", s.size)
	}
	var r chunkResult
	if s.next != nil && s.nextOff == start {
		r = <-s.next
		s.next = nil
	} else {
		s.waitPrefetchLocked()
		r.data, r.err = s.fetch(ctx, start, min(s.chunk, s.size-start))
	}
	if r.err != nil {
		return r.err
	}
	s.buf, s.off = r.data, start
	if s.hash != nil {
		s.hash.Write(r.data)
	}
	if next := start + int64(len(r.data)); next < s.size {
		ch := make(chan chunkResult, 1)
		s.next, s.nextOff = ch, next
		n := min(s.chunk, s.size-next)
		go func() {
			data, err := s.fetch(s.ctx, next, n)
			ch <- chunkResult{data, err}
		}()
	}
	return nil
}

func (s *streamSource) waitPrefetchLocked() {
	if s.next != nil {
		<-s.next
		s.next = nil
	}
}

// Verify reads the rest of the file in chunk order and checks that its SHA-256 is
// checksum ("sha256:<hex>"). Without a hash it does nothing.
func (s *streamSource) Verify(ctx context.Context, checksum string) error {
	if s.hash == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.off+int64(len(s.buf)) < s.size {
		if err := s.advanceLocked(ctx); err != nil {
			return err
		}
	}
	if got := sstable.ChecksumPrefix + hex.EncodeToString(s.hash.Sum(nil)); got != checksum {
		return base.CorruptionErrorf(s.key, 0, "sst content does not match the manifest: sha256 %s, want %s", got, checksum)
	}
	return nil
}

// Close waits for a prefetch in flight, so that no request outlives the source.
func (s *streamSource) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waitPrefetchLocked()
	s.buf = nil
}
