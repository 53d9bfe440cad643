package runiter

import (
	"bytes"
	"sort"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
)

// Source describes a sorted run to an Iter.
type Source interface {
	// Len is the number of SSTs in the run.
	Len() int
	// Bounds returns the smallest and largest user key of SST i.
	Bounds(i int) (minKey, maxKey []byte)
	// Open opens SST i for iteration within [lower, upper] (nil: unbounded). done is called
	// once when the iterator leaves the SST, after its iterator is closed: exhausted says
	// whether every entry was read without error; an error done returns stops the iteration.
	Open(i int, lower, upper []byte) (it *sstable.Iterator, done func(exhausted bool) error, err error)
}

// Iter iterates a sorted run as one sequence. It has the method set of mergeiter.Input.
type Iter struct {
	src          Source
	n            int
	lower, upper []byte // inclusive; nil: unbounded
	scanSeek     bool
	idx          int
	it           *sstable.Iterator
	done         func(exhausted bool) error
	err          error
}

// Options shape an Iter.
type Options struct {
	// Lower and Upper bound the user keys returned, inclusive; nil means unbounded.
	Lower, Upper []byte
	// ScanSeek makes SeekGE read forward from the first entry instead of seeking, so that
	// every SST is read front to back (compaction inputs are streamed and verified whole).
	ScanSeek bool
}

// New returns an unpositioned iterator over the run src describes.
func New(src Source, o Options) *Iter {
	return &Iter{src: src, n: src.Len(), lower: o.Lower, upper: o.Upper, scanSeek: o.ScanSeek, idx: -1}
}

// load leaves the current SST and opens SST i, unpositioned.
func (l *Iter) load(i int) bool {
	l.leave(false)
	l.idx = i
	if i >= l.n || l.err != nil {
		l.idx = l.n
		return false
	}
	if l.upper != nil {
		if minKey, _ := l.src.Bounds(i); bytes.Compare(minKey, l.upper) > 0 {
			l.idx = l.n
			return false
		}
	}
	it, done, err := l.src.Open(i, l.lower, l.upper)
	if err != nil {
		l.err = err
		l.idx = l.n
		return false
	}
	l.it, l.done = it, done
	return true
}

// leave closes the current SST; exhausted says whether it was read to its end.
func (l *Iter) leave(exhausted bool) {
	if l.it == nil {
		return
	}
	if err := l.it.Close(); err != nil && l.err == nil {
		l.err = err
	}
	if err := l.done(exhausted && l.err == nil); err != nil && l.err == nil {
		l.err = err
	}
	l.it, l.done = nil, nil
}

// settle moves forward through the SSTs until the iterator is at an entry or exhausted.
func (l *Iter) settle(ok bool) bool {
	for !ok {
		if l.it != nil {
			l.leave(l.it.Err() == nil)
		}
		if l.err != nil || !l.load(l.idx+1) {
			return false
		}
		ok = l.it.First()
	}
	return true
}

// First moves to the first entry within the bounds.
func (l *Iter) First() bool {
	if l.lower != nil && !l.scanSeek {
		return l.SeekGE(l.lower)
	}
	l.leave(false)
	l.idx = -1
	return l.settle(false)
}

// SeekGE moves to the first entry whose user key is at least key (and at least the lower
// bound).
func (l *Iter) SeekGE(key []byte) bool {
	if l.lower != nil && bytes.Compare(key, l.lower) < 0 {
		key = l.lower
	}
	if l.scanSeek {
		ok := l.First()
		for ok && bytes.Compare(l.Key(), key) < 0 {
			ok = l.Next()
		}
		return ok
	}
	i := sort.Search(l.n, func(i int) bool {
		_, maxKey := l.src.Bounds(i)
		return bytes.Compare(maxKey, key) >= 0
	})
	if !l.load(i) {
		return false
	}
	return l.settle(l.it.SeekGE(key))
}

// Next moves to the next entry.
func (l *Iter) Next() bool {
	if l.it == nil {
		return false
	}
	return l.settle(l.it.Next())
}

// Valid reports whether the iterator is at an entry.
func (l *Iter) Valid() bool { return l.it != nil && l.it.Valid() }

// Key returns the current user key.
func (l *Iter) Key() []byte { return l.it.Key() }

// Value returns the current value.
func (l *Iter) Value() []byte { return l.it.Value() }

// Seq returns the current sequence number.
func (l *Iter) Seq() base.SeqNum { return l.it.Seq() }

// Kind returns the current kind.
func (l *Iter) Kind() base.Kind { return l.it.Kind() }

// Expiry returns the current expiry.
func (l *Iter) Expiry() int64 { return l.it.Expiry() }

// Err returns the first error met.
func (l *Iter) Err() error { return l.err }

// Close leaves the open SST and returns the first error met.
func (l *Iter) Close() error {
	l.leave(false)
	l.idx = l.n
	return l.err
}
