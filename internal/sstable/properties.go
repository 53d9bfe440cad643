package sstable

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/isledb/isledb/internal/base"
)

// Properties describe a whole SST file. The writer computes them and stores them in the
// properties block; a reader decodes them at open.
type Properties struct {
	// EntryCount is the number of entries (all versions, all kinds).
	EntryCount uint64
	// MinKey and MaxKey are the smallest and largest user keys; empty if EntryCount is 0.
	MinKey, MaxKey []byte
	// MinSeq and MaxSeq are the smallest and largest sequence numbers; 0 if EntryCount is 0.
	MinSeq, MaxSeq base.SeqNum
	// TombstoneCount is the number of base.KindDelete entries.
	TombstoneCount uint64
	// BlobRefCount is the number of base.KindBlobRef entries.
	BlobRefCount uint64
	// ExpiringCount is the number of entries with an expiry time.
	ExpiringCount uint64
	// MinExpiry and MaxExpiry bound the expiry times (unix nanoseconds) of the expiring
	// entries; 0 if there are none.
	MinExpiry, MaxExpiry int64
	// Compression is the name of the codec the writer used (some blocks may be stored
	// uncompressed anyway).
	Compression string
	// CreationTime is when the writer was created (or WriterOptions.CreationTime).
	CreationTime time.Time
	// BloomBitsPerKey is the filter size in bits per distinct key; 0 means no filter.
	BloomBitsPerKey int
	// BloomProbes is the number of bits the filter sets per key; 0 means no filter.
	BloomProbes int
	// DataBlockCount is the number of data blocks.
	DataBlockCount uint64
	// RawKeySize and RawValueSize sum the lengths of all user keys and values.
	RawKeySize, RawValueSize uint64
	// DataSize is the number of file bytes taken by data blocks (with their trailers).
	DataSize uint64
	// BlockSize and RestartInterval are the writer options that shaped the data blocks.
	BlockSize, RestartInterval uint64
}

// HasBlobRefs reports whether any entry references a blob.
func (p *Properties) HasBlobRefs() bool { return p.BlobRefCount > 0 }

// String formats the properties one per line, for tools and tests.
func (p *Properties) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "entries: %d (tombstones %d, blob refs %d, expiring %d)\n", p.EntryCount, p.TombstoneCount, p.BlobRefCount, p.ExpiringCount)
	fmt.Fprintf(&sb, "keys: %s .. %s\n", keyString(p.MinKey), keyString(p.MaxKey))
	fmt.Fprintf(&sb, "seqs: %d .. %d\n", p.MinSeq, p.MaxSeq)
	if p.ExpiringCount > 0 {
		fmt.Fprintf(&sb, "expiry: %d .. %d\n", p.MinExpiry, p.MaxExpiry)
	}
	fmt.Fprintf(&sb, "data: %d blocks, %d bytes (raw keys %d, raw values %d)\n", p.DataBlockCount, p.DataSize, p.RawKeySize, p.RawValueSize)
	fmt.Fprintf(&sb, "block size: %d, restart interval: %d, compression: %s\n", p.BlockSize, p.RestartInterval, p.Compression)
	fmt.Fprintf(&sb, "bloom: %d bits/key, %d probes\n", p.BloomBitsPerKey, p.BloomProbes)
	fmt.Fprintf(&sb, "created: %s\n", p.CreationTime.UTC().Format(time.RFC3339Nano))
	return sb.String()
}

// Property tags. Frozen: add new tags at the end, never renumber or reuse one.
const (
	propEntryCount      = 1
	propMinKey          = 2
	propMaxKey          = 3
	propMinSeq          = 4
	propMaxSeq          = 5
	propTombstoneCount  = 6
	propBlobRefCount    = 7
	propExpiringCount   = 8
	propMinExpiry       = 9
	propMaxExpiry       = 10
	propCompression     = 11
	propCreationTime    = 12 // unix nanoseconds
	propBloomBitsPerKey = 13
	propBloomProbes     = 14
	propDataBlockCount  = 15
	propRawKeySize      = 16
	propRawValueSize    = 17
	propDataSize        = 18
	propBlockSize       = 19
	propRestartInterval = 20
)

// encode appends the properties block contents to dst.
func (p *Properties) encode(dst []byte) []byte {
	putBytes := func(tag uint64, v []byte) {
		dst = binary.AppendUvarint(dst, tag)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	var tmp [binary.MaxVarintLen64]byte
	putUint := func(tag, v uint64) {
		putBytes(tag, binary.AppendUvarint(tmp[:0], v))
	}
	putUint(propEntryCount, p.EntryCount)
	putBytes(propMinKey, p.MinKey)
	putBytes(propMaxKey, p.MaxKey)
	putUint(propMinSeq, uint64(p.MinSeq))
	putUint(propMaxSeq, uint64(p.MaxSeq))
	putUint(propTombstoneCount, p.TombstoneCount)
	putUint(propBlobRefCount, p.BlobRefCount)
	putUint(propExpiringCount, p.ExpiringCount)
	putUint(propMinExpiry, uint64(p.MinExpiry))
	putUint(propMaxExpiry, uint64(p.MaxExpiry))
	putBytes(propCompression, []byte(p.Compression))
	putUint(propCreationTime, uint64(p.CreationTime.UnixNano()))
	putUint(propBloomBitsPerKey, uint64(p.BloomBitsPerKey))
	putUint(propBloomProbes, uint64(p.BloomProbes))
	putUint(propDataBlockCount, p.DataBlockCount)
	putUint(propRawKeySize, p.RawKeySize)
	putUint(propRawValueSize, p.RawValueSize)
	putUint(propDataSize, p.DataSize)
	putUint(propBlockSize, p.BlockSize)
	putUint(propRestartInterval, p.RestartInterval)
	return dst
}

// decodeProperties parses the properties block contents. Unknown tags are skipped. The
// returned byte slices are copies.
func decodeProperties(b []byte) (Properties, error) {
	var p Properties
	lastTag := uint64(0)
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return p, fmt.Errorf("bad property tag")
		}
		b = b[n:]
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return p, fmt.Errorf("bad length of property %d", tag)
		}
		v := b[n : n+int(l)]
		b = b[n+int(l):]
		if tag <= lastTag {
			return p, fmt.Errorf("property %d after %d", tag, lastTag)
		}
		lastTag = tag
		var u uint64
		switch tag {
		case propMinKey, propMaxKey, propCompression:
		default:
			var k int
			u, k = binary.Uvarint(v)
			if tag <= propRestartInterval && (k <= 0 || k != len(v)) {
				return p, fmt.Errorf("bad value of property %d", tag)
			}
		}
		switch tag {
		case propEntryCount:
			p.EntryCount = u
		case propMinKey:
			p.MinKey = append([]byte(nil), v...)
		case propMaxKey:
			p.MaxKey = append([]byte(nil), v...)
		case propMinSeq:
			p.MinSeq = base.SeqNum(u)
		case propMaxSeq:
			p.MaxSeq = base.SeqNum(u)
		case propTombstoneCount:
			p.TombstoneCount = u
		case propBlobRefCount:
			p.BlobRefCount = u
		case propExpiringCount:
			p.ExpiringCount = u
		case propMinExpiry:
			p.MinExpiry = int64(u)
		case propMaxExpiry:
			p.MaxExpiry = int64(u)
		case propCompression:
			p.Compression = string(v)
		case propCreationTime:
			p.CreationTime = time.Unix(0, int64(u)).UTC()
		case propBloomBitsPerKey:
			p.BloomBitsPerKey = int(min(u, 1<<16))
		case propBloomProbes:
			p.BloomProbes = int(min(u, 1<<16))
		case propDataBlockCount:
			p.DataBlockCount = u
		case propRawKeySize:
			p.RawKeySize = u
		case propRawValueSize:
			p.RawValueSize = u
		case propDataSize:
			p.DataSize = u
		case propBlockSize:
			p.BlockSize = u
		case propRestartInterval:
			p.RestartInterval = u
		}
	}
	return p, nil
}
