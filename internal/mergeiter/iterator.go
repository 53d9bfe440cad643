package mergeiter

import (
	"bytes"

	"github.com/isledb/isledb/internal/base"
)

// Iterator merges its inputs into one sorted stream; Options.Mode decides which entries of
// the stream it yields. See the package documentation for the rules. It starts unpositioned:
// call First or SeekGE. Key, Value, Seq, Kind and Expiry may be called only while Valid.
type Iterator struct {
	inputs []Input
	h      mergeHeap

	lower, upper []byte
	now          int64
	mode         Mode

	// keyBuf holds a copy of the current user key in ModeVisible and ModeNewest, where the
	// older versions of the key must be skipped after the input holding it has moved on.
	keyBuf  []byte
	seekBuf []byte // copy of the SeekGE target: the caller may pass our own Key back
	kind    base.Kind
	valid   bool
	err     error

	closed   bool
	closeErr error
}

var _ Input = (*Iterator)(nil)

// New returns an Iterator over inputs, which it owns from then on: Close closes them. The
// inputs need not be positioned. If opts are invalid the Iterator never becomes valid and
// Err reports why (an error wrapping ErrInvalidOptions).
func New(inputs []Input, opts Options) *Iterator {
	opts = opts.EnsureDefaults()
	it := &Iterator{
		inputs: append([]Input(nil), inputs...),
		lower:  opts.Lower,
		upper:  opts.Upper,
		now:    opts.Now,
		mode:   opts.Mode,
	}
	it.h.items = make([]heapItem, 0, len(inputs))
	it.err = opts.Validate()
	return it
}

// First moves to the first entry at or above Options.Lower and reports whether there is one.
func (it *Iterator) First() bool {
	if it.lower != nil {
		return it.SeekGE(it.lower)
	}
	if !it.reset() {
		return false
	}
	for i, in := range it.inputs {
		if in.First() {
			it.push(i, in)
		} else if err := in.Err(); err != nil {
			return it.fail(err)
		}
	}
	return it.start()
}

// SeekGE moves to the first entry whose user key is >= key, or >= Options.Lower if key is
// below it, and reports whether there is one.
func (it *Iterator) SeekGE(key []byte) bool {
	if it.lower != nil && bytes.Compare(key, it.lower) < 0 {
		key = it.lower
	}
	if !it.reset() {
		return false
	}
	if it.upper != nil && bytes.Compare(key, it.upper) > 0 {
		return false
	}
	it.seekBuf = append(it.seekBuf[:0], key...)
	for i, in := range it.inputs {
		if in.SeekGE(it.seekBuf) {
			it.push(i, in)
		} else if err := in.Err(); err != nil {
			return it.fail(err)
		}
	}
	return it.start()
}

// Next moves to the following entry and reports whether there is one. In ModeVisible and
// ModeNewest that is the first entry of the next user key; in ModeAll, the next entry.
func (it *Iterator) Next() bool {
	if !it.valid {
		return false
	}
	it.valid = false
	if it.mode == ModeAll {
		it.advanceTop()
	} else {
		it.skipKey()
	}
	return it.settle()
}

// Valid reports whether the iterator is positioned at an entry.
func (it *Iterator) Valid() bool { return it.valid }

// Key returns the current user key. It is valid until the next positioning call or Close;
// do not modify it.
func (it *Iterator) Key() []byte {
	if it.mode == ModeAll {
		return it.h.items[0].key
	}
	return it.keyBuf
}

// Value returns the current value. It may alias an input's buffer: it is valid until the
// next positioning call or Close; do not modify it.
func (it *Iterator) Value() []byte { return it.h.items[0].in.Value() }

// Seq returns the current entry's sequence number.
func (it *Iterator) Seq() base.SeqNum { return it.h.items[0].seq }

// Kind returns the current entry's kind. In ModeVisible it is always base.KindValue or
// base.KindBlobRef.
func (it *Iterator) Kind() base.Kind { return it.kind }

// Expiry returns the current entry's expiry in unix nanoseconds, 0 if it never expires. In
// ModeVisible it is 0 or after Options.Now.
func (it *Iterator) Expiry() int64 { return it.h.items[0].in.Expiry() }

// Err returns the error that stopped the iteration: an input's error, a corrupt entry or
// invalid options. An iterator that ran off its end or past Options.Upper has none. Errors
// are sticky: once Err is non-nil every positioning call returns false.
func (it *Iterator) Err() error { return it.err }

// Close closes every input and returns the first error among their Close results, or, if
// they all succeed, the error that stopped the iteration. Closing twice returns the same
// result and does nothing else.
func (it *Iterator) Close() error {
	if it.closed {
		return it.closeErr
	}
	it.closed = true
	it.valid = false
	for _, in := range it.inputs {
		if err := in.Close(); err != nil && it.closeErr == nil {
			it.closeErr = err
		}
	}
	if it.closeErr == nil {
		it.closeErr = it.err
	}
	clear(it.h.items)
	it.h.items = it.h.items[:0]
	it.inputs = nil
	return it.closeErr
}

// reset empties the heap before a seek; it reports whether the iterator may be positioned.
func (it *Iterator) reset() bool {
	it.valid = false
	clear(it.h.items)
	it.h.items = it.h.items[:0]
	return it.err == nil && !it.closed
}

func (it *Iterator) push(i int, in Input) {
	it.h.items = append(it.h.items, heapItem{key: in.Key(), seq: in.Seq(), in: in, idx: i})
}

func (it *Iterator) start() bool {
	it.h.init()
	return it.settle()
}

func (it *Iterator) fail(err error) bool {
	it.err = err
	it.valid = false
	return false
}

// advanceTop moves the input holding the smallest entry to its next entry.
func (it *Iterator) advanceTop() {
	top := &it.h.items[0]
	if top.in.Next() {
		top.key = top.in.Key()
		top.seq = top.in.Seq()
		it.h.down(0)
		return
	}
	if err := top.in.Err(); err != nil {
		it.err = err
		return
	}
	it.h.popTop()
}

// skipKey moves past every entry whose user key is keyBuf, which the top entry has.
func (it *Iterator) skipKey() {
	for {
		it.advanceTop()
		if it.err != nil || len(it.h.items) == 0 || !bytes.Equal(it.h.items[0].key, it.keyBuf) {
			return
		}
	}
}

// settle positions the iterator at the first entry at or after the top of the heap that the
// mode yields, skipping whole user keys as needed.
func (it *Iterator) settle() bool {
	for it.err == nil && len(it.h.items) > 0 {
		top := &it.h.items[0]
		if it.upper != nil && bytes.Compare(top.key, it.upper) > 0 {
			break
		}
		kind := top.in.Kind()
		if kind > base.KindMax {
			return it.fail(base.CorruptionErrorf("", -1, "mergeiter: entry %q#%d has unknown kind %d", top.key, top.seq, kind))
		}
		it.kind = kind
		if it.mode == ModeAll {
			it.valid = true
			return true
		}
		it.keyBuf = append(it.keyBuf[:0], top.key...)
		if it.mode == ModeNewest || (kind != base.KindDelete && !Expired(top.in.Expiry(), it.now)) {
			it.valid = true
			return true
		}
		it.skipKey()
	}
	it.valid = false
	return false
}
