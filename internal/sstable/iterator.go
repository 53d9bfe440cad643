package sstable

import (
	"bytes"
	"context"

	"github.com/isledb/isledb/internal/base"
)

// IterOptions bound an iterator. The zero value iterates the whole file.
type IterOptions struct {
	// Lower is the inclusive lower bound on user keys; nil means unbounded.
	Lower []byte
	// Upper is the upper bound on user keys, inclusive unless UpperExclusive is set; nil
	// means unbounded.
	Upper []byte
	// UpperExclusive makes Upper exclusive.
	UpperExclusive bool
}

// Iterator walks the entries of one SST in internal order: user keys ascending and, for
// each key, every version from the newest (largest sequence number) to the oldest. It does
// not hide anything: tombstones, expired entries and shadowed versions are all returned,
// for the merging layer above to judge.
//
// An Iterator is not safe for concurrent use; open one per goroutine (the Reader is shared).
// It starts unpositioned: call First or SeekGE.
type Iterator struct {
	r              *Reader
	ctx            context.Context
	lower, upper   []byte
	upperExclusive bool

	block   int  // index of the loaded data block; len(index) when exhausted
	inBound bool // every entry of the loaded block is within the upper bound
	blk     blockIter
	valid   bool
	err     error
	ra      readahead
}

// NewIter returns an iterator over the file within opts' bounds. ctx bounds the reads the
// iterator issues while it is used. The bounds slices are retained and must not be
// modified until the iterator is closed.
func (r *Reader) NewIter(ctx context.Context, opts IterOptions) *Iterator {
	it := &Iterator{
		r:              r,
		ctx:            ctx,
		lower:          opts.Lower,
		upper:          opts.Upper,
		upperExclusive: opts.UpperExclusive,
		block:          -1,
	}
	it.ra.last = -2
	return it
}

// First moves to the first entry within the bounds and reports whether there is one.
func (it *Iterator) First() bool {
	if it.lower != nil {
		return it.seek(it.lower)
	}
	if it.err != nil {
		return false
	}
	return it.loadFrom(0, nil)
}

// SeekGE moves to the first entry whose user key is >= key (and within the bounds): the
// newest version of key if the file has one. It reports whether there is such an entry.
func (it *Iterator) SeekGE(key []byte) bool {
	if it.lower != nil && bytes.Compare(key, it.lower) < 0 {
		key = it.lower
	}
	return it.seek(key)
}

func (it *Iterator) seek(key []byte) bool {
	if it.err != nil {
		return false
	}
	i := it.r.index.search(key)
	return it.loadFrom(i, key)
}

// loadFrom positions the iterator at the first entry >= key (or the first entry if key is
// nil) in block i or, failing that, in the blocks after it.
func (it *Iterator) loadFrom(i int, key []byte) bool {
	it.valid = false
	if !it.loadBlock(i) {
		return false
	}
	var ok bool
	if key != nil {
		ok = it.blk.seekGE(key)
	} else {
		ok = it.blk.first()
	}
	if !ok {
		if it.blk.err != nil {
			it.err = it.blk.err
			return false
		}
		return it.nextBlock()
	}
	return it.settle()
}

// loadBlock makes block i the current block. It returns false at the end or on error.
func (it *Iterator) loadBlock(i int) bool {
	n := len(it.r.index.entries)
	if i >= n {
		it.block = n
		return false
	}
	it.ra.track(i)
	b, err := it.r.dataBlock(it.ctx, i, &it.ra)
	if err != nil {
		it.err = err
		return false
	}
	it.block = i
	if err := it.blk.init(b, it.r.object, int64(it.r.index.entries[i].handle.offset)); err != nil {
		it.err = err
		return false
	}
	it.inBound = it.upper == nil || bytes.Compare(it.r.index.key(i), it.upper) < 0
	return true
}

// nextBlock moves to the first entry of the next non-empty block.
func (it *Iterator) nextBlock() bool {
	for {
		if !it.loadBlock(it.block + 1) {
			return false
		}
		if it.blk.first() {
			return it.settle()
		}
		if it.blk.err != nil {
			it.err = it.blk.err
			return false
		}
	}
}

// settle checks the entry the block iterator stopped at against the upper bound.
func (it *Iterator) settle() bool {
	if !it.inBound {
		c := bytes.Compare(it.blk.key, it.upper)
		if c > 0 || (c == 0 && it.upperExclusive) {
			it.block = len(it.r.index.entries)
			it.valid = false
			return false
		}
	}
	it.valid = true
	return true
}

// Next moves to the next entry and reports whether there is one.
func (it *Iterator) Next() bool {
	if !it.valid {
		return false
	}
	if it.blk.nextEntry() {
		return it.settle()
	}
	it.valid = false
	if it.blk.err != nil {
		it.err = it.blk.err
		return false
	}
	return it.nextBlock()
}

// Valid reports whether the iterator is positioned at an entry.
func (it *Iterator) Valid() bool { return it.valid }

// Key returns the current user key. It is valid until the iterator moves.
func (it *Iterator) Key() []byte { return it.blk.key }

// Value returns the current value. It aliases an immutable block: the caller must not
// modify it; it remains valid after the iterator moves.
func (it *Iterator) Value() []byte { return it.blk.value }

// Seq returns the current entry's sequence number.
func (it *Iterator) Seq() base.SeqNum { return it.blk.seq() }

// Kind returns the current entry's kind.
func (it *Iterator) Kind() base.Kind { return it.blk.kind() }

// Expiry returns the current entry's expiry in unix nanoseconds, or 0 if it has none.
func (it *Iterator) Expiry() int64 { return it.blk.expiry }

// Entry returns the current entry. Its Key is valid until the iterator moves.
func (it *Iterator) Entry() Entry {
	return Entry{Key: it.blk.key, Value: it.blk.value, Seq: it.blk.seq(), Kind: it.blk.kind(), Expiry: it.blk.expiry}
}

// Err returns the error that stopped the iteration, if any. An iterator that ran off the
// end (or past the upper bound) has no error.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator and returns its error, if any. Closing twice is harmless.
func (it *Iterator) Close() error {
	it.valid = false
	it.ra = readahead{}
	it.blk = blockIter{}
	return it.err
}

// readahead is an iterator's window of raw file bytes fetched in one read. Its buffer is
// never reused, so uncompressed blocks may alias it safely.
type readahead struct {
	buf  []byte
	off  uint64
	last int // index of the last block requested, for detecting sequential access
	seq  int // how many blocks in a row were requested in order
	size int // current window size
}

// track records that block i is being loaded, to detect sequential access.
func (ra *readahead) track(i int) {
	if i == ra.last+1 {
		ra.seq++
	} else {
		ra.seq, ra.size = 0, 0
	}
	ra.last = i
}

func (ra *readahead) contains(h blockHandle) bool {
	return h.offset >= ra.off && h.end() <= ra.off+uint64(len(ra.buf))
}

func (ra *readahead) slice(h blockHandle) []byte {
	return ra.buf[h.offset-ra.off : h.end()-ra.off]
}

// readaheadStart is the window of the first batched read of a sequential scan.
const readaheadStart = 16 << 10

// readahead fetches block i and, if the iterator has been reading blocks in order, the
// blocks after it up to the window size, with a single read. The window doubles on every
// sequential refill up to maxSize.
func (r *Reader) readahead(ctx context.Context, i int, ra *readahead, maxSize int) ([]byte, error) {
	entries := r.index.entries
	h := entries[i].handle
	end := h.end()
	if ra.seq > 0 {
		ra.size = min(max(2*ra.size, readaheadStart), maxSize)
		for j := i + 1; j < len(entries) && entries[j].handle.end()-h.offset <= uint64(ra.size); j++ {
			end = entries[j].handle.end()
		}
	}
	buf := make([]byte, end-h.offset)
	if err := r.readAt(ctx, r.src, buf, int64(h.offset), r.object); err != nil {
		return nil, err
	}
	ra.buf, ra.off = buf, h.offset
	return ra.slice(h), nil
}
