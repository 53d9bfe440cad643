package sstable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression is a block compression codec. Its numeric value is the block type byte written
// after every block, so the values are frozen.
type Compression uint8

const (
	// CompressionNone stores blocks as they are.
	CompressionNone Compression = 0
	// CompressionSnappy uses the snappy block format (written by klauspost/compress/s2 in
	// its snappy-compatible mode). Fast to encode and decode; the default.
	CompressionSnappy Compression = 1
	// CompressionZstd uses a zstd frame (klauspost/compress/zstd at its fastest level,
	// comparable to zstd level 1, with Huffman coding of literals skipped where it does not
	// pay: see zstdProbeInterval). Smaller files; slower to encode and about 2-3x slower to
	// decode than snappy.
	CompressionZstd Compression = 2
	// CompressionLZ4 uses the lz4 block format (pierrec/lz4/v4).
	CompressionLZ4 Compression = 3

	numCompressions = 4
)

// DefaultCompression is what the name "" selects: snappy. A block is decoded on every block
// cache miss, so decode speed is on the read path of every cold lookup; snappy decodes several
// times faster than zstd and, on 4 KiB blocks where zstd's large window does not help, comes
// within a few percent of its ratio on typical keys and values. Pick "zstd" to trade CPU for
// bucket bytes.
const DefaultCompression = CompressionSnappy

// String returns the name that ParseCompression accepts.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionSnappy:
		return "snappy"
	case CompressionZstd:
		return "zstd"
	case CompressionLZ4:
		return "lz4"
	}
	return fmt.Sprintf("compression(%d)", uint8(c))
}

// ParseCompression returns the codec named name: "none", "snappy", "zstd" or "lz4"; ""
// selects DefaultCompression.
func ParseCompression(name string) (Compression, error) {
	switch name {
	case "":
		return DefaultCompression, nil
	case "none":
		return CompressionNone, nil
	case "snappy":
		return CompressionSnappy, nil
	case "zstd":
		return CompressionZstd, nil
	case "lz4":
		return CompressionLZ4, nil
	}
	return 0, fmt.Errorf("%w: %q (want none, snappy, zstd or lz4)", ErrUnknownCompression, name)
}

// Codec state is shared by the whole process: a zstd encoder or decoder is expensive to build
// and safe for concurrent use through EncodeAll/DecodeAll; lz4 compressors are cheap but
// stateful, so they are pooled.
var (
	zstdEncOnce sync.Once
	zstdEnc     [2]*zstd.Encoder // [0] entropy-codes literals, [1] stores them raw
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	lz4Pool     = sync.Pool{New: func() any { return new(lz4.Compressor) }}
)

// zstdEncoder returns the process's zstd encoder; rawLiterals selects the one that does not
// Huffman-code literals (see zstdProbeInterval).
func zstdEncoder(rawLiterals bool) *zstd.Encoder {
	zstdEncOnce.Do(func() {
		for i := range zstdEnc {
			enc, err := zstd.NewWriter(nil,
				zstd.WithEncoderLevel(zstd.SpeedFastest),
				zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
				zstd.WithEncoderCRC(false), // every block already has a CRC-32C
				zstd.WithNoEntropyCompression(i == 1),
			)
			if err != nil {
				panic(fmt.Sprintf("sstable: static zstd encoder options rejected: %v", err))
			}
			zstdEnc[i] = enc
		}
	})
	if rawLiterals {
		return zstdEnc[1]
	}
	return zstdEnc[0]
}

// zstdProbeInterval is how often a writer checks whether Huffman coding of zstd literals
// pays. Building the Huffman table is over half the cost of compressing a 4 KiB block, and
// it buys nothing when the literals are random (hashes, identifiers, encrypted or already
// compressed values). So every zstdProbeInterval-th data block is compressed both ways; if
// entropy coding did not save at least 1%, the next interval's blocks skip it. The decision
// depends only on the data, never on timing, so output stays reproducible. Either way the
// result is a standard zstd frame.
const zstdProbeInterval = 32

func zstdDecoder() *zstd.Decoder {
	zstdDecOnce.Do(func() {
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxBlockSize),
			zstd.WithDecodeAllCapLimit(true), // never decode past the length we were promised
			zstd.IgnoreChecksum(true),
		)
		if err != nil {
			panic(fmt.Sprintf("sstable: static zstd decoder options rejected: %v", err))
		}
		zstdDec = dec
	})
	return zstdDec
}

// codecOpts are per-call choices of compressWith.
type codecOpts struct {
	// lz is a caller-owned lz4 compressor; nil takes one from the pool. A writer keeps its
	// own: pooled compressors do not survive garbage collections, and a new one costs more
	// than compressing a block.
	lz *lz4.Compressor
	// zstdRawLiterals skips Huffman coding of zstd literals.
	zstdRawLiterals bool
}

// compressBlock appends the payload of block compressed with c to dst[:0] and returns it.
// It returns ok=false when the codec does not save at least 1/8 of the block: the caller
// then stores the block uncompressed.
func compressBlock(c Compression, dst, block []byte) (payload []byte, ok bool) {
	return compressWith(c, codecOpts{}, dst, block)
}

// compressWith is compressBlock with options.
func compressWith(c Compression, o codecOpts, dst, block []byte) (payload []byte, ok bool) {
	if c == CompressionNone || len(block) == 0 {
		return dst[:0], false
	}
	dst = encodePayload(c, o, dst, block)
	if len(dst) == 0 || len(dst) > compressLimit(len(block)) {
		return dst[:0], false
	}
	return dst, true
}

// compressLimit is the largest payload worth storing for a block of n bytes.
func compressLimit(n int) int { return n - n/8 }

// encodePayload appends the decoded length and the codec output to dst[:0]. It returns an
// empty slice if the codec failed.
func encodePayload(c Compression, o codecOpts, dst, block []byte) []byte {
	dst = binary.AppendUvarint(dst[:0], uint64(len(block)))
	hdr := len(dst)
	switch c {
	case CompressionSnappy:
		need := hdr + s2.MaxEncodedLen(len(block))
		dst = grow(dst, need)
		enc := s2.EncodeSnappy(dst[hdr:need], block)
		return dst[:hdr+len(enc)]
	case CompressionZstd:
		return zstdEncoder(o.zstdRawLiterals).EncodeAll(block, dst)
	case CompressionLZ4:
		need := hdr + lz4.CompressBlockBound(len(block))
		dst = grow(dst, need)
		comp := o.lz
		if comp == nil {
			comp = lz4Pool.Get().(*lz4.Compressor)
			defer lz4Pool.Put(comp)
		}
		n, err := comp.CompressBlock(block, dst[hdr:need])
		if err != nil || n == 0 {
			return dst[:0]
		}
		return dst[:hdr+n]
	}
	return dst[:0]
}

// zstdProbe compresses block with and without Huffman-coded literals, into dst and alt, and
// returns the smaller payload (ok as for compressWith), whether entropy coding saved at
// least 1%, and the two buffers for reuse.
func zstdProbe(dst, alt, block []byte) (payload []byte, ok, entropyPays bool, dstBuf, altBuf []byte) {
	withEntropy := encodePayload(CompressionZstd, codecOpts{}, dst, block)
	raw := encodePayload(CompressionZstd, codecOpts{zstdRawLiterals: true}, alt, block)
	entropyPays = len(withEntropy) < len(raw)-len(raw)/100
	payload = raw
	if len(withEntropy) <= len(raw) {
		payload = withEntropy
	}
	ok = len(payload) > 0 && len(payload) <= compressLimit(len(block))
	return payload, ok, entropyPays, withEntropy, raw
}

// grow returns b with length n, reallocating if its capacity is smaller.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		nb := make([]byte, n, n+n/4)
		copy(nb, b)
		return nb
	}
	return b[:n]
}

// lz4MaxRatio bounds how much an lz4 block can expand: a match of 255 more bytes costs at
// least one more byte of input.
const lz4MaxRatio = 255

// errBadPayload describes compressed payloads whose decoded length is wrong.
var errBadPayload = errors.New("decoded length mismatch")

// decompressBlock decodes a compressed payload of type c into a new slice. Its errors are
// plain: the caller wraps them as corruption with the block's location.
func decompressBlock(c Compression, payload []byte) ([]byte, error) {
	n, k := binary.Uvarint(payload)
	if k <= 0 {
		return nil, errors.New("bad decoded length")
	}
	if n > maxBlockSize {
		return nil, fmt.Errorf("decoded length %d exceeds limit", n)
	}
	src := payload[k:]
	// Check what can be checked before allocating n bytes.
	switch c {
	case CompressionSnappy:
		dl, err := s2.DecodedLen(src)
		if err != nil {
			return nil, err
		}
		if uint64(dl) != n {
			return nil, errBadPayload
		}
	case CompressionZstd:
		var h zstd.Header
		if err := h.Decode(src); err != nil {
			return nil, err
		}
		if h.HasFCS && h.FrameContentSize != n {
			return nil, errBadPayload
		}
	case CompressionLZ4:
		if n > uint64(len(src))*lz4MaxRatio+64 {
			return nil, errBadPayload
		}
	default:
		return nil, fmt.Errorf("unknown block type %d", uint8(c))
	}
	out := make([]byte, n)
	switch c {
	case CompressionSnappy:
		res, err := s2.Decode(out, src)
		if err != nil {
			return nil, err
		}
		if len(res) != int(n) {
			return nil, errBadPayload
		}
	case CompressionZstd:
		res, err := zstdDecoder().DecodeAll(src, out[:0])
		if err != nil {
			return nil, err
		}
		if len(res) != int(n) || (n > 0 && &res[0] != &out[0]) {
			return nil, errBadPayload
		}
	case CompressionLZ4:
		got, err := lz4.UncompressBlock(src, out)
		if err != nil {
			return nil, err
		}
		if got != int(n) {
			return nil, errBadPayload
		}
	}
	return out, nil
}
