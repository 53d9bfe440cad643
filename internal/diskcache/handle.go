package diskcache

import (
	"errors"
	"io"
	"os"
)

// Handle reads one cached item. It is an io.ReaderAt of known size; ReadAt may be called
// concurrently. A Handle returned by Get reads the item's file and stays readable even if
// the item is evicted meanwhile; one returned by OpenOrFetch for an item the cache would not
// keep reads the fetched bytes in memory. Close it when done.
type Handle struct {
	f    *os.File // nil for an in-memory handle
	data []byte   // the bytes of an in-memory handle
	size int64
}

var _ io.ReaderAt = (*Handle)(nil)

// errNegativeOffset is returned by ReadAt for an offset below 0.
var errNegativeOffset = errors.New("diskcache: negative offset")

// ReadAt reads len(p) bytes at offset off, with the semantics of io.ReaderAt: fewer bytes
// come with an error, io.EOF at the end of the item.
func (h *Handle) ReadAt(p []byte, off int64) (int, error) {
	if h.f != nil {
		return h.f.ReadAt(p, off)
	}
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= int64(len(h.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, h.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Size returns the item's size in bytes.
func (h *Handle) Size() int64 { return h.size }

// Close releases the handle. Reading after Close fails.
func (h *Handle) Close() error {
	if h.f != nil {
		return h.f.Close()
	}
	h.data = nil
	return nil
}
