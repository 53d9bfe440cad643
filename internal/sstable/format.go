package sstable

import "github.com/isledb/isledb/config"

// The SST file format, version 1.
//
// Everything below is frozen: a file written by version 1 must be readable by every later
// version. A change of layout needs a new format version in the footer; a new property needs
// only a new property tag (readers skip tags they do not know).
//
// File
//
//	+--------------+-----+----------------+----------------+-------------+------------------+--------------+
//	| data block 0 | ... | data block n-1 | [filter block] | index block | properties block | footer (64B) |
//	+--------------+-----+----------------+----------------+-------------+------------------+--------------+
//	^ offset 0                            ^ meta start                                      ^ size - 64
//
// Blocks are back to back: there is no byte that no checksum covers. Data blocks start at
// offset 0; the filter block is absent when the writer had no bloom filter or no entries.
// Everything from the meta start to the end of the file is what a reader needs to open the
// file, so that a reader of a bucket object fetches it with one ranged read (two if the
// speculative tail read was too short).
//
// Block (physical)
//
//	+---------------------------+-----------+---------------------+
//	| payload (handle.Length B) | type (1B) | crc32c (4B, LE u32) |
//	+---------------------------+-----------+---------------------+
//
// A block handle is (offset, length) where length counts the payload only; the block takes
// length+5 bytes of the file. The CRC-32C (Castagnoli) covers the payload and the type byte.
// Type is the compression (0 none, 1 snappy, 2 zstd, 3 lz4). For type 0 the payload is the
// block contents; otherwise it is
//
//	+----------------------------------+--------------------------------+
//	| decoded length (uvarint)         | codec output                   |
//	+----------------------------------+--------------------------------+
//
// where the codec output is a snappy block, a zstd frame or an lz4 block. A block is stored
// compressed only when that saves at least 1/8 of its size.
//
// Data block and index block (contents)
//
//	+---------+-----+-------------+------------------+-----+--------------------+--------------+
//	| entry 0 | ... | entry m-1   | restart 0 (u32)  | ... | restart r-1 (u32)  | r (u32)      |
//	+---------+-----+-------------+------------------+-----+--------------------+--------------+
//
// Restart values are little-endian byte offsets of entries whose key is stored whole
// (shared = 0). Every restartInterval-th entry of a data block is a restart point; every
// entry of an index block is. r >= 1 unless the block has no entries.
//
// Entry
//
//	+-----------------+-------------------+-------------------+------------+----------------+--------------------+-------+
//	| shared uvarint  | unshared uvarint  | value len uvarint | key suffix | trailer (u64)  | [expiry (i64)]     | value |
//	+-----------------+-------------------+-------------------+------------+----------------+--------------------+-------+
//
// The user key is the first shared bytes of the previous entry's user key followed by the
// suffix. The trailer is little-endian seq<<8 | kindByte, where the low 7 bits of kindByte
// are the base.Kind and bit 7 (0x80) says that an 8-byte little-endian expiry follows (unix
// nanoseconds, > 0). Entries sort by (user key ascending, seq descending); one (key, seq)
// pair appears at most once.
//
// In the index block there is one entry per data block, in file order. Its key and trailer
// seq form a separator S with last(block i) <= S < first(block i+1) in internal order (the
// last separator equals the last key of the file); its kind byte is 0 and its value is the
// data block's handle:
//
//	+-----------------+-----------------+
//	| offset uvarint  | length uvarint  |
//	+-----------------+-----------------+
//
// Filter block (contents; always stored with type 0)
//
//	+------------------------------+--------------+-------------+-----------------+
//	| bits (lines * 64 B)          | lines (u32)  | probes (u8) | filter kind (u8)|
//	+------------------------------+--------------+-------------+-----------------+
//
// A blocked bloom filter over the distinct user keys (filter kind 1): a key's 64-bit hash
// (hash64, see hash.go) picks one 512-bit line with the high 32 bits and sets or tests
// probes bits within that line with the low 32 bits. See bloom.go.
//
// Properties block (contents; always stored with type 0)
//
//	+-------------+-------------+--------------+-----+
//	| tag uvarint | len uvarint | value (len B)| ... |   repeated, tags strictly ascending
//	+-------------+-------------+--------------+-----+
//
// Integer values are uvarints unless noted; see properties.go for the tags.
//
// Footer (64 bytes, all integers little-endian)
//
//	 0                 8                 16                24                32
//	+-----------------+-----------------+-----------------+-----------------+
//	| filter offset   | filter length   | index offset    | index length    |
//	+-----------------+-----------------+-----------------+-----------------+
//	 32                40                48       52       56                64
//	+-----------------+-----------------+--------+--------+-----------------+
//	| props offset    | props length    | version| crc32c | magic "isle.sst"|
//	+-----------------+-----------------+--------+--------+-----------------+
//
// The footer CRC-32C covers bytes [0, 52). A filter length of 0 means no filter block (its
// offset is then 0).

const (
	// FormatVersion is the format version this package writes. Frozen for version 1.
	FormatVersion = 1

	// footerLen is the size of the footer. Frozen.
	footerLen = 64
	// footerMagic ends every SST file. Frozen.
	footerMagic = "isle.sst"
	// footerCRCOffset is where the footer checksum sits; it covers the bytes before it.
	footerCRCOffset = 52

	// blockTrailerLen is the size of the type byte plus the CRC-32C after every block. Frozen.
	blockTrailerLen = 5

	// kindMask selects the base.Kind from an entry's kind byte. Frozen.
	kindMask = 0x7f
	// kindFlagExpiry marks an entry followed by an 8-byte expiry. Frozen.
	kindFlagExpiry = 0x80

	// filterKindBlockedBloom identifies the filter layout described above. Frozen.
	filterKindBlockedBloom = 1
	// filterTrailerLen is the size of the filter block's trailer (lines, probes, kind).
	filterTrailerLen = 6
	// bloomLineBytes is the size of one bloom line: one cache line. Frozen.
	bloomLineBytes = 64
	// bloomLineBits is the number of bits in one bloom line. Frozen.
	bloomLineBits = bloomLineBytes * 8
)

// The limits a writer enforces and a reader relies on are defined once, in package config:
// config.KeySizeLimit (the longest user key an SST may hold) and config.InlineValueSizeLimit
// (the largest value it may hold inline; larger values belong in blobs). Raising them is a
// format change.
const (
	// maxBlockSize bounds a decoded block: one maximal entry and its overhead fit.
	maxBlockSize = config.KeySizeLimit + config.InlineValueSizeLimit + 1<<16
)
