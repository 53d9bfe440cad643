package isledb

import (
	"github.com/isledb/isledb/internal/memtable"
)

// Recycling a writer's memory (docs/memory.md).
//
// A writer's memtables come from a per-writer memtable.Pool: a memtable's slabs go back
// to the pool once its flush is done and serve the next memtables, at most one memtable's
// worth waits idle, and on Linux, macOS and the BSDs the key/value bytes live outside the
// Go heap. The SST a flush builds is encoded into a buffer that, once the flush is done,
// serves the next build. So a steady stream of writes does not turn each flushed
// memtable, and its SST, into garbage that the GC lets the heap double on.
//
// When a memtable may be recycled. Its memory is read by (a) the writes adding to it,
// under w.mu, while it is active; (b) the flush goroutine building its SST
// (Writer.build) and uploading the blobs whose values alias it (pendingBlob.value), both
// inside flushOne while it is w.mu.immutables[0]; (c) the lookups of writer_unflushed.go
// and the metrics' memtableBytes, which hold w.mu for the whole read and copy what they
// return. Anyone else who reads a memtable outside w.mu must take their own reference
// (memtable.Memtable.Ref) under w.mu while it is active or queued, and Unref when done.
// The writer's own reference goes in retireLocked, called by the flush goroutine under
// w.mu when the flushed memtable leaves the queue, after flushOne returned: no write can
// reach it any more (it is not active), the flush is over, and later readers cannot find
// it (it is no longer queued). The SST buffer is touched only by the flush goroutine
// (build, retireLocked) and, once that goroutine has ended, by Close.

// newMemtablePool returns the pool of a writer's memtables: a memtable's worth may wait
// idle, so the next memtable after a flush allocates nothing.
func newMemtablePool(o WriterOptions) *memtable.Pool {
	// A full memtable may take a little more than MemtableSize in slabs (the last of each
	// kind partly used); the slack keeps one memtable's slabs whole.
	return memtable.NewPool(o.MemtableSize + memtable.SlabSlack)
}

// newMemtable returns a fresh memtable from the writer's pool (w.mu held).
func (w *Writer) newMemtable() *memtable.Memtable { return w.pool.New() }

// retireLocked drops the writer's use of f, which has just left the queue (w.mu held, on
// the flush goroutine): its memtable's slabs go back to the pool once no reference is
// left, and its SST buffer is kept for the next build. f is cleared so that a stale
// pointer to it fails loudly instead of reading recycled memory.
func (w *Writer) retireLocked(f *frozen) {
	if f.built != nil {
		if cap(f.built.data) > cap(w.sstBuf) {
			w.sstBuf = f.built.data[:0]
		}
		f.built = nil
	}
	f.mt.Unref()
	f.mt = nil
}

// takeSSTBuffer returns the buffer the next SST is built in, with at least size bytes of
// capacity (on the flush goroutine).
func (w *Writer) takeSSTBuffer(size int) []byte {
	b := w.sstBuf
	w.sstBuf = nil
	if cap(b) < size {
		return make([]byte, 0, size)
	}
	return b[:0]
}

// releaseMemtables gives back the memory of the memtables left at Close (the empty active
// one; queued ones whose final flush failed, their writes lost as Close documents) and
// closes the pool. The flush goroutine has ended, so nothing reads them; active is
// replaced by an empty memtable outside the pool for any code that still looks at it.
func (w *Writer) releaseMemtables() {
	w.mu.Lock()
	w.mu.active.Unref()
	w.mu.active = memtable.New()
	for i, f := range w.mu.immutables {
		f.mt.Unref()
		f.mt, f.built = nil, nil
		w.mu.immutables[i] = nil
	}
	w.mu.immutables = nil
	w.sstBuf = nil
	w.mu.Unlock()
	w.pool.Close()
}
