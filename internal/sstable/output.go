package sstable

import (
	"crypto/sha256"
	"hash"
	"io"
	"sync"
)

// output is a Writer's output stage. It gathers the file's bytes into chunks and hands each
// full chunk to a short-lived goroutine that feeds it to SHA-256 and then to the
// destination, so that hashing and writing one chunk overlap with encoding the next. The
// goroutines form a chain (each waits for the one before), which keeps the bytes in order
// and the destination used by one goroutine at a time. Two buffers alternate: handing off a
// chunk waits until the chunk before it is written, and recycles its buffer.
//
// A write error surfaces on a later Write or on Flush. If the Writer is abandoned, the
// goroutines still finish on their own.
type output struct {
	dst  io.Writer
	sum  hash.Hash // written by the jobs in order; read after Flush
	cur  []byte    // the chunk being filled
	last *outputJob
	err  error // the first write error, once seen
}

// outputChunkSize is the size at which a chunk is handed off.
const outputChunkSize = 256 << 10

type outputJob struct {
	buf  []byte
	done sync.WaitGroup
	err  error // the error of this job or of one before it
}

// outputBufPool recycles chunk buffers across writers.
var outputBufPool = sync.Pool{New: func() any { b := make([]byte, 0, outputChunkSize); return &b }}

func getOutputBuf() []byte { return (*outputBufPool.Get().(*[]byte))[:0] }

func putOutputBuf(b []byte) {
	if cap(b) <= 4*outputChunkSize { // not the rare chunk grown by a huge block
		b = b[:0]
		outputBufPool.Put(&b)
	}
}

func newOutput(dst io.Writer) *output {
	return &output{dst: dst, sum: sha256.New(), cur: getOutputBuf()}
}

// Write appends p to the current chunk. It returns a write error reported by an earlier
// chunk, if any.
func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	o.cur = append(o.cur, p...)
	if len(o.cur) >= outputChunkSize {
		o.submit()
	}
	return len(p), o.err
}

// submit hands the current chunk to a goroutine, waits for the chunk before it and takes
// that chunk's buffer for the next one.
func (o *output) submit() {
	job := &outputJob{buf: o.cur}
	job.done.Add(1)
	prev := o.last
	go func() {
		defer job.done.Done()
		if prev != nil {
			prev.done.Wait()
			if prev.err != nil {
				job.err = prev.err
				return
			}
		}
		o.sum.Write(job.buf)
		if _, err := o.dst.Write(job.buf); err != nil {
			job.err = err
		}
	}()
	o.last = job
	if prev == nil {
		o.cur = getOutputBuf()
		return
	}
	prev.done.Wait()
	if prev.err != nil {
		o.err = prev.err
	}
	o.cur = prev.buf[:0]
}

// Flush writes everything and waits for it. It returns the first write error.
func (o *output) Flush() error {
	if o.err != nil {
		return o.err
	}
	if len(o.cur) > 0 {
		o.submit()
	}
	if o.last != nil {
		o.last.done.Wait()
		if o.last.err != nil {
			o.err = o.last.err
		}
		if o.err == nil {
			// Everything is written: the buffers can serve the next writer.
			putOutputBuf(o.last.buf)
			putOutputBuf(o.cur)
			o.last, o.cur = nil, nil
		}
	}
	return o.err
}
