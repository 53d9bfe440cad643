package sstable

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pierrec/lz4/v4"

	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
)

// Entry is one version of one key: what Writer.Add takes and Reader.Get returns.
type Entry = base.Entry

// Metadata is what Writer.Finish reports about the file it wrote: what the manifest records
// about an SST, plus the full properties.
type Metadata struct {
	// Size is the file size in bytes.
	Size int64
	// EntryCount is the number of entries.
	EntryCount uint64
	// MinKey and MaxKey are the smallest and largest user keys (empty for an empty file).
	MinKey, MaxKey []byte
	// SeqLo and SeqHi are the smallest and largest sequence numbers (0 for an empty file).
	SeqLo, SeqHi base.SeqNum
	// HasBlobRefs reports whether any entry is a blob reference.
	HasBlobRefs bool
	// BloomBitsPerKey and BloomProbes describe the filter; both 0 when there is none.
	BloomBitsPerKey, BloomProbes int
	// CreatedAt is the creation time recorded in the properties.
	CreatedAt time.Time
	// SHA256 is the SHA-256 of the whole file.
	SHA256 [sha256.Size]byte
	// Checksum is SHA256 in the manifest's form, "sha256:<64 lowercase hex digits>".
	Checksum string
	// Properties are the file's properties as stored in it.
	Properties Properties
}

// Writer writes one SST file to an io.Writer. Entries must be added in internal order: user
// key ascending, then sequence number descending, each (key, seq) at most once. A Writer is
// not safe for concurrent use.
//
// The Writer streams: data blocks are written as they fill up, in 256 KiB chunks that a
// background goroutine hashes and writes while the next chunk fills, so memory use is
// bounded by a few chunks and blocks, the index separators and 8 bytes per distinct key for
// the filter. Write errors may therefore surface one chunk late, on a later Add or on
// Finish. With WriterOptions.Parallelism above 1, data blocks are compressed by
// short-lived goroutines while the caller goes on adding entries; they are still written in
// order. Nothing is durable until Finish returns and the caller has closed or synced the
// destination.
type Writer struct {
	opts        WriterOptions
	comp        Compression
	parallelism int

	out    *output
	offset uint64 // bytes handed to out so far

	data    blockBuilder
	hashes  hashList // filter: hash of every distinct user key
	lastKey []byte
	lastSeq base.SeqNum

	// Index entries and other growing buffers, recycled across writers (see writerBufs).
	*writerBufs
	// pending is set after a data block was cut, until the next key tells where the
	// block's separator may end.
	pending bool

	// Blocks being compressed in parallel, oldest first, and their raw size.
	inflight      []*compressTask
	inflightBytes int

	// zstd literal coding (see zstdProbeInterval): the mode of the current interval, the
	// finding of the latest probe, and the latest probe task when compressing in parallel.
	zstdRawLiterals bool
	zstdEntropyPays bool
	lastProbe       *compressTask

	props    Properties
	lz4      *lz4.Compressor // for CompressionLZ4 on the caller's goroutine
	scratch  []byte          // compression output, reused
	scratch2 []byte          // second output for zstd probes
	trailer  [blockTrailerLen]byte

	err error // sticky: set by the first failure or by Finish
}

// writerBufs are the buffers of a Writer that grow with the file: the index entries (the
// separator of data block i is seps[i], its handle handles[i], known once the block is
// written) and the index block that Finish builds from them. A finished Writer hands them
// to the next one, so that a process writing SSTs one after another does not allocate and
// fault in fresh memory for each.
type writerBufs struct {
	seps     []separator
	sepBytes []byte
	handles  []blockHandle
	index    blockBuilder
	hbuf     []byte
}

var writerBufsPool = sync.Pool{New: func() any { return new(writerBufs) }}

func getWriterBufs() *writerBufs {
	b := writerBufsPool.Get().(*writerBufs)
	b.seps, b.sepBytes, b.handles, b.hbuf = b.seps[:0], b.sepBytes[:0], b.handles[:0], b.hbuf[:0]
	b.index.reset()
	b.index.restartInterval = 1
	return b
}

// separator is an index separator: key bytes in Writer.sepBytes and a sequence number.
type separator struct {
	off, len uint32
	seq      base.SeqNum
}

// NewWriter returns a Writer that writes an SST to w with options opts (see WriterOptions
// for defaults). The caller owns w: the Writer never closes it.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	opts = opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	comp, _ := ParseCompression(opts.Compression)
	wr := &Writer{
		opts:        opts,
		comp:        comp,
		parallelism: max(opts.Parallelism, 1),
		out:         newOutput(w),
		writerBufs:  getWriterBufs(),
	}
	wr.data.restartInterval = opts.RestartInterval
	wr.props = Properties{
		Compression:     comp.String(),
		CreationTime:    time.Unix(0, opts.CreationTime.UnixNano()).UTC(),
		BlockSize:       uint64(opts.BlockSize),
		RestartInterval: uint64(opts.RestartInterval),
	}
	if opts.BloomBitsPerKey != NoBloomFilter {
		wr.props.BloomBitsPerKey = opts.BloomBitsPerKey
		wr.props.BloomProbes = bloomProbes(opts.BloomBitsPerKey)
	}
	return wr, nil
}

// Add appends an entry. The Writer copies what it needs: e's slices may be reused as soon
// as Add returns. Out-of-order entries fail with ErrOutOfOrder and invalid ones with
// ErrInvalidEntry; neither poisons the Writer. A write error does, and is returned again by
// every later call.
func (w *Writer) Add(e Entry) error {
	if w.err != nil {
		return w.err
	}
	if err := checkEntry(&e); err != nil {
		return err
	}
	newKey := true
	if w.props.EntryCount > 0 {
		c := bytes.Compare(e.Key, w.lastKey)
		if c < 0 || (c == 0 && e.Seq >= w.lastSeq) {
			return fmt.Errorf("%w: %s#%d after %s#%d", ErrOutOfOrder, keyString(e.Key), e.Seq, keyString(w.lastKey), w.lastSeq)
		}
		newKey = c != 0
	}
	if !w.data.empty() && w.data.size()+entrySize(len(e.Key), len(e.Value), e.Expiry != 0) > w.opts.BlockSize {
		if err := w.flushData(); err != nil {
			return err
		}
	}
	if w.pending {
		w.addSeparator(e.Key)
	}
	w.data.add(e.Key, makeTrailer(e.Seq, e.Kind, e.Expiry != 0), e.Expiry, e.Value)
	if newKey && w.props.BloomBitsPerKey > 0 {
		w.hashes.add(hash64(e.Key))
	}
	w.updateProps(&e)
	w.lastKey = append(w.lastKey[:0], e.Key...)
	w.lastSeq = e.Seq
	return nil
}

// checkEntry validates one entry's fields.
func checkEntry(e *Entry) error {
	switch {
	case !e.Kind.Valid():
		return fmt.Errorf("%w: unknown kind %d", ErrInvalidEntry, e.Kind)
	case e.Seq > base.SeqNumMax:
		return fmt.Errorf("%w: sequence number %d above %d", ErrInvalidEntry, e.Seq, base.SeqNumMax)
	case e.Expiry < 0:
		return fmt.Errorf("%w: negative expiry %d", ErrInvalidEntry, e.Expiry)
	case len(e.Key) > config.KeySizeLimit:
		return fmt.Errorf("%w: key of %d bytes (max %d)", ErrInvalidEntry, len(e.Key), config.KeySizeLimit)
	case len(e.Value) > config.InlineValueSizeLimit:
		return fmt.Errorf("%w: value of %d bytes (max %d)", ErrInvalidEntry, len(e.Value), config.InlineValueSizeLimit)
	}
	return nil
}

func (w *Writer) updateProps(e *Entry) {
	p := &w.props
	if p.EntryCount == 0 {
		p.MinKey = append([]byte(nil), e.Key...)
		p.MinSeq, p.MaxSeq = e.Seq, e.Seq
	}
	p.EntryCount++
	p.MinSeq = min(p.MinSeq, e.Seq)
	p.MaxSeq = max(p.MaxSeq, e.Seq)
	switch e.Kind {
	case base.KindDelete:
		p.TombstoneCount++
	case base.KindBlobRef:
		p.BlobRefCount++
	}
	if e.Expiry != 0 {
		if p.ExpiringCount == 0 {
			p.MinExpiry, p.MaxExpiry = e.Expiry, e.Expiry
		}
		p.ExpiringCount++
		p.MinExpiry = min(p.MinExpiry, e.Expiry)
		p.MaxExpiry = max(p.MaxExpiry, e.Expiry)
	}
	p.RawKeySize += uint64(len(e.Key))
	p.RawValueSize += uint64(len(e.Value))
}

// flushData cuts the current data block: it writes it, or hands it to a compression
// goroutine, and leaves its separator pending.
func (w *Writer) flushData() error {
	contents := w.data.finish()
	block := w.props.DataBlockCount
	w.props.DataBlockCount++
	w.pending = true
	probe := w.comp == CompressionZstd && block%zstdProbeInterval == 0
	if probe && block > 0 {
		// A new interval starts: adopt what the previous interval's probe found.
		if w.lastProbe != nil {
			w.lastProbe.wg.Wait()
			w.zstdEntropyPays = w.lastProbe.entropyPays
		}
		w.zstdRawLiterals = !w.zstdEntropyPays
	}
	if w.parallelism <= 1 {
		var err error
		if probe {
			err = w.writeDataBlock(w.probe(contents))
		} else {
			err = w.writeDataBlock(w.compress(contents))
		}
		w.data.reset()
		return err
	}
	t := compressTaskPool.Get().(*compressTask)
	t.raw = append(t.raw[:0], contents...)
	w.data.reset()
	t.probe = probe
	if probe {
		// Probe tasks are not recycled: the next interval reads their finding.
		w.lastProbe = t
	}
	t.start(w.comp, w.zstdRawLiterals)
	w.inflight = append(w.inflight, t)
	w.inflightBytes += len(t.raw)
	// Write the blocks that are done, in order; wait for the oldest if too many are out.
	for len(w.inflight) > 0 {
		head := w.inflight[0]
		if len(w.inflight) <= 2*w.parallelism && !head.finished.Load() {
			break
		}
		if err := w.writeTask(head); err != nil {
			return err
		}
	}
	return nil
}

// drain writes every block still being compressed.
func (w *Writer) drain() error {
	for len(w.inflight) > 0 {
		if err := w.writeTask(w.inflight[0]); err != nil {
			return err
		}
	}
	return nil
}

// writeTask waits for the oldest compression task, writes its block and recycles it.
func (w *Writer) writeTask(t *compressTask) error {
	t.wg.Wait()
	w.inflight = w.inflight[1:]
	w.inflightBytes -= len(t.raw)
	typ, payload := CompressionNone, t.raw
	if t.ok {
		typ, payload = w.comp, t.payload
	}
	err := w.writeDataBlock(payload, typ)
	if !t.probe {
		compressTaskPool.Put(t)
	}
	return err
}

// writeDataBlock writes a data block and records its handle.
func (w *Writer) writeDataBlock(payload []byte, typ Compression) error {
	h, err := w.writeRaw(payload, typ)
	if err != nil {
		return err
	}
	w.handles = append(w.handles, h)
	w.props.DataSize += h.length + blockTrailerLen
	return nil
}

// compressTask compresses one data block on its own goroutine.
type compressTask struct {
	raw, payload, alt []byte
	ok                bool
	probe             bool // compress both ways (zstd) and report entropyPays
	entropyPays       bool
	finished          atomic.Bool
	wg                sync.WaitGroup
}

var compressTaskPool = sync.Pool{New: func() any { return new(compressTask) }}

func (t *compressTask) start(c Compression, zstdRawLiterals bool) {
	t.finished.Store(false)
	t.wg.Add(1)
	go func() {
		if t.probe {
			t.payload, t.ok, t.entropyPays, _, t.alt = zstdProbe(t.payload, t.alt, t.raw)
		} else {
			t.payload, t.ok = compressWith(c, codecOpts{zstdRawLiterals: zstdRawLiterals}, t.payload, t.raw)
		}
		t.finished.Store(true)
		t.wg.Done()
	}()
}

// addSeparator records the pending block's separator: a key between the block's last key
// (w.lastKey, w.lastSeq) and next, the first key of the following block, or the last key
// itself if next is nil.
func (w *Writer) addSeparator(next []byte) {
	off := len(w.sepBytes)
	seq := w.lastSeq
	if next != nil {
		w.sepBytes = shortSeparator(w.sepBytes, w.lastKey, next)
		if bytes.Compare(w.sepBytes[off:], w.lastKey) > 0 {
			// last < s < next: any sequence number works; the largest sorts first.
			seq = base.SeqNumMax
		}
	} else {
		w.sepBytes = append(w.sepBytes, w.lastKey...)
	}
	w.seps = append(w.seps, separator{off: uint32(off), len: uint32(len(w.sepBytes) - off), seq: seq})
	w.pending = false
}

// shortSeparator appends to dst a short key s with a <= s < b, for a < b. It appends a
// copy of a when it finds nothing shorter.
func shortSeparator(dst, a, b []byte) []byte {
	n := sharedPrefixLen(a, b)
	if n < len(a) && n < len(b) {
		if c := a[n]; c < 0xff && c+1 < b[n] {
			dst = append(dst, a[:n]...)
			return append(dst, c+1)
		}
	}
	return append(dst, a...)
}

// compress returns the payload and type under which contents should be stored.
func (w *Writer) compress(contents []byte) ([]byte, Compression) {
	if w.comp == CompressionLZ4 && w.lz4 == nil {
		w.lz4 = new(lz4.Compressor)
	}
	p, ok := compressWith(w.comp, codecOpts{lz: w.lz4, zstdRawLiterals: w.zstdRawLiterals}, w.scratch, contents)
	w.scratch = p[:0]
	if ok {
		return p, w.comp
	}
	return contents, CompressionNone
}

// probe compresses a zstd data block both ways (see zstdProbeInterval), records whether
// entropy coding paid, and returns the better payload and its type.
func (w *Writer) probe(contents []byte) ([]byte, Compression) {
	p, ok, pays, dst, alt := zstdProbe(w.scratch, w.scratch2, contents)
	w.scratch, w.scratch2 = dst[:0], alt[:0]
	w.zstdEntropyPays = pays
	if ok {
		return p, w.comp
	}
	return contents, CompressionNone
}

// writeRaw writes one block with the given payload and type and returns its handle.
func (w *Writer) writeRaw(payload []byte, typ Compression) (blockHandle, error) {
	trailer := w.trailer[:] // a field, not a local: crc32.Update would move it to the heap
	trailer[0] = byte(typ)
	crc := crc32.Update(crc32.Checksum(payload, crcTable), crcTable, trailer[:1])
	trailer[1], trailer[2], trailer[3], trailer[4] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	h := blockHandle{offset: w.offset, length: uint64(len(payload))}
	if _, err := w.out.Write(payload); err != nil {
		return h, w.fail(err)
	}
	if _, err := w.out.Write(trailer); err != nil {
		return h, w.fail(err)
	}
	w.offset += uint64(len(payload)) + blockTrailerLen
	return h, nil
}

func (w *Writer) fail(err error) error {
	w.err = fmt.Errorf("sstable: write: %w", err)
	return w.err
}

// EstimatedSize returns about the size the file would have if it were finished now,
// counting blocks still being compressed at their raw size and excluding the filter, index
// and properties blocks. Compactions use it to cut output files.
func (w *Writer) EstimatedSize() int64 {
	return int64(w.offset) + int64(w.inflightBytes) + int64(w.data.size())
}

// EntryCount returns the number of entries added so far.
func (w *Writer) EntryCount() uint64 { return w.props.EntryCount }

// Finish writes the remaining data, the filter, index and properties blocks and the footer,
// flushes its buffer into the destination and returns the file's metadata. The Writer can
// not be used afterwards. A file with no entries is valid.
func (w *Writer) Finish() (*Metadata, error) {
	if w.err != nil {
		return nil, w.err
	}
	if !w.data.empty() {
		if err := w.flushData(); err != nil {
			return nil, err
		}
	}
	if w.pending {
		w.addSeparator(nil)
	}
	if err := w.drain(); err != nil {
		return nil, err
	}
	p := &w.props
	p.MaxKey = append([]byte(nil), w.lastKey...)
	if p.MinKey == nil {
		p.MinKey = []byte{}
	}

	var f footer
	f.version = FormatVersion
	if p.BloomBitsPerKey > 0 && p.EntryCount > 0 {
		h, err := w.writeRaw(w.hashes.buildBloom(p.BloomBitsPerKey), CompressionNone)
		if err != nil {
			return nil, err
		}
		f.filter = h
	} else {
		p.BloomBitsPerKey, p.BloomProbes = 0, 0
	}
	w.hashes.release()

	for i, s := range w.seps {
		w.hbuf = appendHandle(w.hbuf[:0], w.handles[i])
		w.index.add(w.sepBytes[s.off:s.off+s.len], makeTrailer(s.seq, 0, false), 0, w.hbuf)
	}
	contents := w.index.finish()
	if len(contents) > maxBlockSize {
		w.err = fmt.Errorf("%w: index block of %d bytes exceeds %d", ErrInvalidEntry, len(contents), maxBlockSize)
		return nil, w.err
	}
	var err error
	if f.index, err = w.writeRaw(w.compress(contents)); err != nil {
		return nil, err
	}
	if f.props, err = w.writeRaw(p.encode(nil), CompressionNone); err != nil {
		return nil, err
	}
	if _, err := w.out.Write(f.encode()); err != nil {
		return nil, w.fail(err)
	}
	w.offset += footerLen
	if err := w.out.Flush(); err != nil {
		return nil, w.fail(err)
	}
	w.err = ErrWriterClosed
	writerBufsPool.Put(w.writerBufs)
	w.writerBufs = nil

	m := &Metadata{
		Size:        int64(w.offset),
		EntryCount:  p.EntryCount,
		MinKey:      p.MinKey,
		MaxKey:      p.MaxKey,
		SeqLo:       p.MinSeq,
		SeqHi:       p.MaxSeq,
		HasBlobRefs: p.HasBlobRefs(),
		CreatedAt:   p.CreationTime,
		Properties:  *p,
	}
	m.BloomBitsPerKey, m.BloomProbes = p.BloomBitsPerKey, p.BloomProbes
	w.out.sum.Sum(m.SHA256[:0])
	m.Checksum = ChecksumPrefix + hex.EncodeToString(m.SHA256[:])
	return m, nil
}

// ChecksumPrefix starts every Metadata.Checksum string.
const ChecksumPrefix = "sha256:"

// keyString quotes a key for an error message, eliding the middle of long keys.
func keyString(k []byte) string {
	const limit = 64
	if len(k) <= limit {
		return fmt.Sprintf("%q", k)
	}
	return fmt.Sprintf("%q...(%d bytes)...%q", k[:limit/2], len(k)-limit, k[len(k)-limit/2:])
}
