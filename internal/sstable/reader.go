package sstable

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
	"sync/atomic"

	"github.com/isledb/isledb/internal/base"
)

// Reader reads one SST file. Opening it loads the footer, properties, filter and index;
// data blocks are fetched on demand, one at a time for point lookups and in batches for
// iterators, through the optional block cache. Every block's checksum is verified before its
// contents are used.
//
// A Reader is safe for concurrent use by multiple goroutines.
type Reader struct {
	src     Source
	data    []byte // the whole file when it is in memory, else nil
	size    int64
	object  string
	opts    ReaderOptions
	cache   BlockCache
	cacheID uint64

	footer footer
	props  Properties
	filter bloomFilter
	index  indexBlock
	meta   []byte // raw bytes from footer.metaStart() to the footer

	// verified marks data blocks of an in-memory file whose checksum has been checked,
	// one bit per block, so that repeated lookups without a cache do not re-hash them.
	verified []atomic.Uint64

	closed    atomic.Bool
	reads     atomic.Uint64
	bytesRead atomic.Uint64
}

// Open opens the SST file behind src. It issues one read of the file's last TailReadSize
// bytes (see ReaderOptions), and a second one only if the footer, properties, filter and
// index do not all fit in it. If the whole file fits, the Reader keeps it in memory and never reads
// src again. A BytesSource is used in place with no read at all (as OpenBytes does).
//
// Errors caused by the file's contents match base.ErrCorruption.
func Open(ctx context.Context, src Source, opts ReaderOptions) (*Reader, error) {
	opts = opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{}
	if b, ok := src.(BytesSource); ok {
		if err := r.initInMemory(src, b, opts); err != nil {
			return nil, err
		}
		return r, nil
	}
	size := src.Size()
	if size < footerLen {
		return nil, corruptf(opts.Object, 0, "file of %d bytes is shorter than a footer", size)
	}
	tailLen := min(size, int64(opts.TailReadSize))
	tailOff := size - tailLen
	tail := make([]byte, tailLen)
	if err := r.readAt(ctx, src, tail, tailOff, opts.Object); err != nil {
		return nil, err
	}
	if tailOff == 0 {
		if err := r.initInMemory(src, tail, opts); err != nil {
			return nil, err
		}
		return r, nil
	}
	f, err := decodeFooter(tail[tailLen-footerLen:], size, opts.Object)
	if err != nil {
		return nil, err
	}
	metaStart := int64(f.metaStart())
	var meta []byte
	if metaStart >= tailOff {
		meta = tail[metaStart-tailOff : tailLen-footerLen]
	} else {
		meta = make([]byte, size-footerLen-metaStart)
		copy(meta[tailOff-metaStart:], tail[:tailLen-footerLen])
		if err := r.readAt(ctx, src, meta[:tailOff-metaStart], metaStart, opts.Object); err != nil {
			return nil, err
		}
	}
	r.src, r.size = src, size
	if err := r.init(f, meta, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// OpenBytes opens an SST file held in memory. It reads nothing: blocks are sliced out of
// data, which must not be modified while the Reader is in use. Values returned by the Reader
// may alias data.
func OpenBytes(data []byte, opts ReaderOptions) (*Reader, error) {
	return Open(context.Background(), BytesSource(data), opts)
}

// initInMemory opens a file that is entirely in memory.
func (r *Reader) initInMemory(src Source, data []byte, opts ReaderOptions) error {
	size := int64(len(data))
	if size < footerLen {
		return corruptf(opts.Object, 0, "file of %d bytes is shorter than a footer", size)
	}
	f, err := decodeFooter(data[size-footerLen:], size, opts.Object)
	if err != nil {
		return err
	}
	r.src, r.data, r.size = src, data, size
	if err := r.init(f, data[f.metaStart():size-footerLen], opts); err != nil {
		return err
	}
	r.verified = make([]atomic.Uint64, (len(r.index.entries)+63)/64)
	return nil
}

// init decodes the meta blocks. meta holds the file bytes from f.metaStart() to the footer.
func (r *Reader) init(f footer, meta []byte, opts ReaderOptions) error {
	r.footer, r.meta, r.opts, r.object = f, meta, opts, opts.Object
	r.cache, r.cacheID = opts.Cache, opts.CacheID
	if r.cache != nil && r.cacheID == 0 {
		r.cacheID = newAutoCacheID()
	}
	ms := f.metaStart()
	metaBlock := func(h blockHandle) ([]byte, error) {
		raw := meta[h.offset-ms : h.end()-ms]
		b, _, err := decodeBlock(raw, r.object, int64(h.offset))
		return b, err
	}
	pb, err := metaBlock(f.props)
	if err != nil {
		return err
	}
	if r.props, err = decodeProperties(pb); err != nil {
		return corruptWrap(r.object, int64(f.props.offset), "properties block", err)
	}
	if f.filter.length > 0 {
		fb, err := metaBlock(f.filter)
		if err != nil {
			return err
		}
		if r.filter, err = decodeBloom(fb); err != nil {
			return corruptWrap(r.object, int64(f.filter.offset), "filter block", err)
		}
	}
	ib, err := metaBlock(f.index)
	if err != nil {
		return err
	}
	if r.index, err = decodeIndex(ib, r.object, int64(f.index.offset), ms); err != nil {
		return err
	}
	if uint64(len(r.index.entries)) != r.props.DataBlockCount {
		return corruptf(r.object, int64(f.index.offset), "index has %d entries, properties count %d data blocks", len(r.index.entries), r.props.DataBlockCount)
	}
	if (r.props.EntryCount == 0) != (len(r.index.entries) == 0) {
		return corruptf(r.object, int64(f.props.offset), "%d entries in %d data blocks", r.props.EntryCount, len(r.index.entries))
	}
	return nil
}

// readAt reads p at off from src, counting the request.
func (r *Reader) readAt(ctx context.Context, src Source, p []byte, off int64, object string) error {
	r.reads.Add(1)
	r.bytesRead.Add(uint64(len(p)))
	if err := src.ReadAt(ctx, p, off); err != nil {
		return fmt.Errorf("sstable: read %d bytes at %d of %s: %w", len(p), off, object, err)
	}
	return nil
}

// decodeBlock verifies a physical block (payload and trailer) and returns its contents,
// decompressed if needed. compressed reports whether contents is a new slice (true) or
// aliases raw (false).
func decodeBlock(raw []byte, object string, off int64) (contents []byte, compressed bool, err error) {
	if len(raw) < blockTrailerLen {
		return nil, false, corruptf(object, off, "block of %d bytes", len(raw))
	}
	n := len(raw) - blockTrailerLen
	want := binary.LittleEndian.Uint32(raw[n+1:])
	if got := crc32.Checksum(raw[:n+1], crcTable); got != want {
		return nil, false, corruptf(object, off, "block checksum mismatch (stored %#08x, computed %#08x)", want, got)
	}
	typ := Compression(raw[n])
	if typ == CompressionNone {
		return raw[:n:n], false, nil
	}
	if typ >= numCompressions {
		return nil, false, corruptf(object, off, "unknown block type %d", raw[n])
	}
	b, err := decompressBlock(typ, raw[:n])
	if err != nil {
		return nil, false, corruptWrap(object, off, "decompress "+typ.String()+" block", err)
	}
	return b, true, nil
}

// readBufPool recycles buffers that held compressed blocks.
var readBufPool = sync.Pool{New: func() any { return new([]byte) }}

// dataBlock returns the contents of data block i. ra, if not nil, lets an iterator serve
// the block from (and refill) its readahead buffer.
func (r *Reader) dataBlock(ctx context.Context, i int, ra *readahead) ([]byte, error) {
	h := r.index.entries[i].handle
	if r.cache != nil {
		if b, ok := r.cache.Get(r.cacheID, h.offset); ok {
			return b, nil
		}
	}
	if r.closed.Load() {
		return nil, ErrReaderClosed
	}
	if r.data != nil {
		raw := r.data[h.offset:h.end()]
		word, bit := i/64, uint64(1)<<(i%64)
		if r.verified[word].Load()&bit != 0 && raw[h.length] == byte(CompressionNone) {
			return raw[:h.length:h.length], nil
		}
		b, compressed, err := decodeBlock(raw, r.object, int64(h.offset))
		if err != nil {
			return nil, err
		}
		r.verified[word].Or(bit)
		if compressed && r.cache != nil {
			r.cache.Put(r.cacheID, h.offset, b)
		}
		return b, nil
	}
	var raw []byte
	var pooled *[]byte
	if ra != nil && ra.contains(h) {
		raw = ra.slice(h)
	} else if ra != nil && r.opts.ReadaheadSize > 0 {
		var err error
		if raw, err = r.readahead(ctx, i, ra, r.opts.ReadaheadSize); err != nil {
			return nil, err
		}
	} else {
		n := int(h.length + blockTrailerLen)
		pooled = readBufPool.Get().(*[]byte)
		if cap(*pooled) < n || cap(*pooled) > 2*n {
			// Sized closely: an uncompressed block keeps the buffer (in the cache).
			*pooled = make([]byte, n)
		}
		raw = (*pooled)[:n]
		if err := r.readAt(ctx, r.src, raw, int64(h.offset), r.object); err != nil {
			readBufPool.Put(pooled)
			return nil, err
		}
	}
	b, compressed, err := decodeBlock(raw, r.object, int64(h.offset))
	if pooled != nil {
		if err == nil && !compressed {
			// The block aliases the buffer: hand it over instead of recycling it.
			*pooled = nil
		}
		readBufPool.Put(pooled)
	}
	if err != nil {
		return nil, err
	}
	if r.cache != nil {
		r.cache.Put(r.cacheID, h.offset, b)
	}
	return b, nil
}

// Get returns the newest entry for key: its kind, sequence number, expiry and value. It
// returns found=false if the file has no entry for key. Tombstones and expired entries are
// returned like any other entry: deciding what they hide is the caller's business.
//
// Get consults the filter, then the index, then reads at most one data block. The returned
// Entry's Key is key itself; its Value aliases the cached (or in-memory) block and must not
// be modified; it stays valid for as long as the caller keeps it.
func (r *Reader) Get(ctx context.Context, key []byte) (e Entry, found bool, err error) {
	if len(r.index.entries) == 0 || !r.filter.mayContain(hash64(key)) {
		return Entry{}, false, nil
	}
	i := r.index.search(key)
	if i == len(r.index.entries) {
		return Entry{}, false, nil
	}
	b, err := r.dataBlock(ctx, i, nil)
	if err != nil {
		return Entry{}, false, err
	}
	be, found, badOff, problem := blockGet(b, key)
	if problem != "" {
		return Entry{}, false, blockCorruption(r.object, int64(r.index.entries[i].handle.offset), badOff, problem)
	}
	if !found {
		return Entry{}, false, nil
	}
	return Entry{Key: key, Value: be.value, Seq: base.SeqNum(be.trailer >> 8), Kind: base.Kind(be.trailer & kindMask), Expiry: be.expiry}, true, nil
}

// MayContain reports whether the file may hold an entry for key, consulting only the
// filter (and the key range). False is definite; true may be a false positive.
func (r *Reader) MayContain(key []byte) bool {
	if len(r.index.entries) == 0 || bytes.Compare(key, r.props.MinKey) < 0 || bytes.Compare(key, r.props.MaxKey) > 0 {
		return false
	}
	return r.filter.mayContain(hash64(key))
}

// Properties returns the file's properties. The caller must not modify them.
func (r *Reader) Properties() *Properties { return &r.props }

// Size returns the file size in bytes.
func (r *Reader) Size() int64 { return r.size }

// CacheID returns the ID under which the Reader's blocks are cached (assigned if
// ReaderOptions.CacheID was 0), for LRUCache.EvictFile.
func (r *Reader) CacheID() uint64 { return r.cacheID }

// Object returns the name given in ReaderOptions.Object.
func (r *Reader) Object() string { return r.object }

// ReaderStats count the reads a Reader issued to its Source.
type ReaderStats struct {
	// Reads is the number of ReadAt calls (ranged GETs for a bucket object).
	Reads uint64
	// BytesRead is the number of bytes they asked for.
	BytesRead uint64
}

// String formats the stats on one line.
func (s ReaderStats) String() string {
	return fmt.Sprintf("reads: %d, bytes read: %d", s.Reads, s.BytesRead)
}

// Stats returns the reads issued so far, including those of Open.
func (r *Reader) Stats() ReaderStats {
	return ReaderStats{Reads: r.reads.Load(), BytesRead: r.bytesRead.Load()}
}

// Close releases the Reader. Iterators must be closed first; lookups after Close that
// need to read a block fail with ErrReaderClosed. Close never fails; closing twice is a
// no-op. Close does not close the Source.
func (r *Reader) Close() error {
	r.closed.Store(true)
	return nil
}
