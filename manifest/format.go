package manifest

import (
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"hash/crc64"
	"slices"
	"strings"
)

// Byte format: log entries are version 1, snapshots version 2 (version 1 snapshots, which
// lack the writer history, are still read). Everything below is frozen: changing any of it
// requires a new format version. docs/format.md ("Manifest log and snapshots") describes the same bytes field by field.
//
// A log entry ("manifest/log/<seq:020d>") and a snapshot ("manifest/snapshot/<seq:020d>")
// are each one object made of a 16-byte header and a body:
//
//	 0        4         6         8            12          16
//	+--------+---------+---------+------------+-----------+----------------------+
//	| magic  | version | flags   | body len   | CRC-32C   | body (body len B)    |
//	| 4 B    | u16     | u16 = 0 | u32        | u32       |                      |
//	+--------+---------+---------+------------+-----------+----------------------+
//
// Integers in the header are little-endian. The magic is "IMLE" for a log entry and "IMSN"
// for a snapshot. Flags are reserved and must be zero. The CRC-32C (Castagnoli) covers
// header bytes [0, 12) followed by the body. The object holds nothing after the body.
//
// Bodies are sequences of these primitives:
//
//	uvarint   unsigned LEB128 (encoding/binary.AppendUvarint), at most 10 bytes
//	varint    zig-zag signed LEB128 (encoding/binary.AppendVarint)
//	u8, u64   fixed width, little-endian
//	bytes     uvarint length, then that many bytes
//	string    as bytes, UTF-8 not enforced
//	strings   uvarint count, then count strings
//	time      u8 tag: 0 = the zero time; 1 = varint Unix seconds, then uvarint
//	          nanoseconds (< 1e9). Decoded times are in UTC.
//	digest    u8 tag: 0 = "" ; 1 = 32 raw bytes standing for "sha256:<64 lowercase hex>";
//	          2 = string (any other form)
//
// Log entry body:
//
//	seq        uvarint   the entry's own sequence number (must match its key)
//	prev hash  u64       entryHash of entry seq-1; 0 for seq 1
//	kind       u8        1 claim, 2 add SST, 3 remove SSTs, 4 compaction
//	role       u8        1 writer, 2 compactor
//	epoch      uvarint   the appender's fence epoch (claim: the new epoch), >= 1
//	owner      string
//	timestamp  time
//	payload    by kind:  claim: nothing; add SST: sst; remove SSTs: strings;
//	                     compaction: strings RemoveL0SSTs, uvarint count + count uvarint
//	                     RemoveSortedRuns, strings DeleteSSTs, u8 has-output (0/1),
//	                     then if 1: run
//
// Snapshot body:
//
//	log seq          uvarint  the last entry the snapshot includes (>= 1)
//	chain            u64      entryHash of entry <log seq>
//	version          uvarint  Manifest.Version
//	next epoch       uvarint
//	next run id      uvarint  (<= 2^32-1)
//	writer fence     fence
//	compactor fence  fence
//	L0               uvarint count, then count sst (newest first)
//	runs             uvarint count, then count run (newest first)
//	recent hashes    uvarint count (<= log seq), then count u64: the entryHash of entries
//	                 log seq-count+1 .. log seq, oldest first; the last equals chain
//	writer history   (version 2 only) uvarint count (<= 64), then count times: uvarint
//	                 epoch, uvarint end seq; oldest first, epochs increasing
//
//	fence  u8 present (0/1); if 1: uvarint epoch, string owner, time claimed-at
//	run    uvarint id (<= 2^32-1), uvarint count, then count sst (key order)
//	sst    string id, uvarint epoch, uvarint seq lo, uvarint seq hi, bytes min key,
//	       bytes max key, uvarint size, digest checksum, uvarint level, uvarint flags
//	       (bit 0 has blob refs, bit 1 has signature, others zero), time created-at,
//	       uvarint bloom bits per key, uvarint bloom hash count, uvarint bloom keys,
//	       uvarint bloom size, uvarint entry count, uvarint tombstone count, and if
//	       flags bit 1: string algorithm, string key id, digest hash, bytes signature
//
// entryHash of an entry is the CRC-64 (ECMA polynomial) of its whole encoded object,
// header included.
const (
	formatVersion = uint16(1) // of log entries
	// snapshotVersion is the version snapshots are written in. Version 1 snapshots (no
	// writer history) are still read.
	snapshotVersion = uint16(2)
	headerLen       = 16

	entryMagic    = "IMLE"
	snapshotMagic = "IMSN"

	kindClaim      = uint8(EntryClaimFence)
	kindAddSST     = uint8(EntryAddSST)
	kindRemoveSSTs = uint8(EntryRemoveSSTs)
	kindCompaction = uint8(EntryCompaction)

	digestEmpty  = 0
	digestSHA256 = 1
	digestString = 2

	sstFlagBlobRefs  = 1 << 0
	sstFlagSignature = 1 << 1
	sstFlagsKnown    = sstFlagBlobRefs | sstFlagSignature

	// maxBodyLen bounds a body; a header claiming more is corrupt. 1 GiB holds a snapshot
	// of several million SSTs.
	maxBodyLen = 1 << 30

	// minSSTLen is the fewest bytes an encoded sst takes (used to bound counts).
	minSSTLen = 20
)

var (
	crcTable   = crc32.MakeTable(crc32.Castagnoli)
	crc64Table = crc64.MakeTable(crc64.ECMA)
)

// entryHash returns the hash chaining entry N+1 to the encoded entry N.
func entryHash(encoded []byte) uint64 { return crc64.Checksum(encoded, crc64Table) }

// frame wraps body (which starts headerLen bytes into buf, the header's room) into an
// object: it fills in the header and returns buf.
func frame(buf []byte, magic string, version uint16) []byte {
	copy(buf[0:4], magic)
	binary.LittleEndian.PutUint16(buf[4:], version)
	binary.LittleEndian.PutUint16(buf[6:], 0)
	binary.LittleEndian.PutUint32(buf[8:], uint32(len(buf)-headerLen))
	crc := crc32.Update(0, crcTable, buf[:12])
	crc = crc32.Update(crc, crcTable, buf[headerLen:])
	binary.LittleEndian.PutUint32(buf[12:], crc)
	return buf
}

// unframe checks the header and checksum of an object and returns its body and its
// format version, one of versions.
func unframe(object string, data []byte, magic string, versions ...uint16) ([]byte, uint16, error) {
	if len(data) < headerLen {
		return nil, 0, corruptionf(object, 0, "%d bytes, shorter than the %d-byte header", len(data), headerLen)
	}
	if string(data[0:4]) != magic {
		return nil, 0, corruptionf(object, 0, "bad magic %q, want %q", data[0:4], magic)
	}
	v := binary.LittleEndian.Uint16(data[4:])
	if !slices.Contains(versions, v) {
		return nil, 0, corruptionf(object, 4, "unknown format version %d", v)
	}
	if f := binary.LittleEndian.Uint16(data[6:]); f != 0 {
		return nil, 0, corruptionf(object, 6, "unknown flags %#x", f)
	}
	n := binary.LittleEndian.Uint32(data[8:])
	if n > maxBodyLen || int64(n) != int64(len(data)-headerLen) {
		return nil, 0, corruptionf(object, 8, "body length %d, object holds %d", n, len(data)-headerLen)
	}
	crc := crc32.Update(0, crcTable, data[:12])
	crc = crc32.Update(crc, crcTable, data[headerLen:])
	if want := binary.LittleEndian.Uint32(data[12:]); crc != want {
		return nil, 0, corruptionf(object, 12, "checksum %#08x, want %#08x", crc, want)
	}
	return data[headerLen:], v, nil
}

// encodeEntry returns the object of entry e.
func encodeEntry(e *ManifestLogEntry) []byte {
	enc := encoder{b: make([]byte, headerLen, 128)}
	enc.uvarint(uint64(e.Seq))
	enc.u64(e.PrevHash)
	enc.u8(uint8(e.Kind))
	enc.u8(uint8(e.Role))
	enc.uvarint(e.Epoch)
	enc.str(e.Owner)
	enc.time(e.Timestamp)
	switch e.Kind {
	case EntryAddSST:
		encodeSST(&enc, e.SST)
	case EntryRemoveSSTs:
		enc.strs(e.RemovedSSTs)
	case EntryCompaction:
		c := e.Compaction
		enc.strs(c.RemoveL0SSTs)
		enc.uvarint(uint64(len(c.RemoveSortedRuns)))
		for _, id := range c.RemoveSortedRuns {
			enc.uvarint(uint64(id))
		}
		enc.strs(c.DeleteSSTs)
		if c.OutputRun == nil {
			enc.u8(0)
		} else {
			enc.u8(1)
			encodeRun(&enc, c.OutputRun)
		}
	}
	return frame(enc.b, entryMagic, formatVersion)
}

// DecodeLogEntry decodes the object of a log entry. object names it in errors. Bad bytes
// give an error wrapping ErrCorruption, never a panic. The entry's strings are copies;
// its byte slices alias data.
func DecodeLogEntry(object string, data []byte) (*ManifestLogEntry, error) {
	body, _, err := unframe(object, data, entryMagic, formatVersion)
	if err != nil {
		return nil, err
	}
	d := decoder{b: body, base: headerLen, object: object}
	e := &ManifestLogEntry{}
	e.Seq = Seq(d.uvarint())
	e.PrevHash = d.u64()
	kindOff := d.off
	e.Kind = EntryKind(d.u8())
	e.Role = Role(d.u8())
	e.Epoch = d.uvarint()
	e.Owner = d.str()
	e.Timestamp = d.time()
	if d.err != nil {
		return nil, d.err
	}
	if e.Seq == 0 {
		return nil, corruptionf(object, headerLen, "entry sequence number 0")
	}
	if e.Seq == 1 && e.PrevHash != 0 {
		return nil, corruptionf(object, headerLen, "entry 1 names a predecessor")
	}
	if !e.Role.valid() {
		return nil, corruptionf(object, headerLen+int64(kindOff)+1, "unknown role %d", e.Role)
	}
	if e.Epoch == 0 {
		return nil, corruptionf(object, headerLen+int64(kindOff)+2, "epoch 0")
	}
	switch e.Kind {
	case EntryClaimFence:
	case EntryAddSST:
		s := decodeSST(&d)
		e.SST = &s
	case EntryRemoveSSTs:
		e.RemovedSSTs = d.strs()
	case EntryCompaction:
		c := &CompactionLogPayload{}
		c.RemoveL0SSTs = d.strs()
		if n := d.length(1); n > 0 {
			c.RemoveSortedRuns = make([]uint32, n)
			for i := range c.RemoveSortedRuns {
				c.RemoveSortedRuns[i] = d.u32()
			}
		}
		c.DeleteSSTs = d.strs()
		switch d.u8() {
		case 0:
		case 1:
			r := decodeRun(&d)
			c.OutputRun = &r
		default:
			d.fail("bad output tag")
		}
		e.Compaction = c
	default:
		return nil, corruptionf(object, headerLen+int64(kindOff), "unknown entry kind %d", e.Kind)
	}
	d.done()
	if d.err != nil {
		return nil, d.err
	}
	return e, nil
}

// encodeSnapshot returns the snapshot object of m.
func encodeSnapshot(m *Manifest) []byte {
	enc := encoder{b: make([]byte, headerLen, headerLen+64+m.sstCount()*160)}
	enc.uvarint(m.LogSeq)
	enc.u64(m.chain)
	enc.uvarint(uint64(m.Version))
	enc.uvarint(m.NextEpoch)
	enc.uvarint(uint64(m.NextSortedRunID))
	encodeFence(&enc, m.WriterFence)
	encodeFence(&enc, m.CompactorFence)
	enc.uvarint(uint64(len(m.L0SSTs)))
	for i := range m.L0SSTs {
		encodeSST(&enc, &m.L0SSTs[i])
	}
	enc.uvarint(uint64(len(m.SortedRuns)))
	for i := range m.SortedRuns {
		encodeRun(&enc, &m.SortedRuns[i])
	}
	recent := m.recent.lastHashes(recentHashes)
	enc.uvarint(uint64(len(recent)))
	for _, h := range recent {
		enc.u64(h)
	}
	enc.uvarint(uint64(len(m.WriterHistory)))
	for _, t := range m.WriterHistory {
		enc.uvarint(t.Epoch)
		enc.uvarint(t.EndSeq)
	}
	return frame(enc.b, snapshotMagic, snapshotVersion)
}

// DecodeSnapshot decodes a snapshot object into the manifest it holds. Bad bytes give an
// error wrapping ErrCorruption, never a panic. The manifest's byte slices alias data.
func DecodeSnapshot(object string, data []byte) (*Manifest, error) {
	body, version, err := unframe(object, data, snapshotMagic, 1, snapshotVersion)
	if err != nil {
		return nil, err
	}
	d := decoder{b: body, base: headerLen, object: object}
	m := &Manifest{}
	m.LogSeq = d.uvarint()
	m.chain = d.u64()
	m.Version = d.smallInt()
	m.NextEpoch = d.uvarint()
	m.NextSortedRunID = d.u32()
	m.WriterFence = decodeFence(&d)
	m.CompactorFence = decodeFence(&d)
	if n := d.length(minSSTLen); n > 0 {
		m.L0SSTs = make([]SSTMeta, n)
		for i := range m.L0SSTs {
			m.L0SSTs[i] = decodeSST(&d)
		}
	}
	if n := d.length(2); n > 0 {
		m.SortedRuns = make([]SortedRun, n)
		for i := range m.SortedRuns {
			m.SortedRuns[i] = decodeRun(&d)
		}
	}
	recentOff := d.off
	var recent []uint64
	if n := d.length(8); n > 0 {
		recent = make([]uint64, n)
		for i := range recent {
			recent[i] = d.u64()
		}
	}
	if version >= 2 {
		n := d.length(2)
		if n > MaxWriterHistory {
			d.fail("writer history of %d tenures", n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			m.WriterHistory = append(m.WriterHistory, WriterTenure{Epoch: d.uvarint(), EndSeq: d.uvarint()})
		}
	}
	d.done()
	if d.err != nil {
		return nil, d.err
	}
	if m.LogSeq == 0 {
		return nil, corruptionf(object, headerLen, "snapshot of log position 0")
	}
	if uint64(len(recent)) > m.LogSeq || (len(recent) > 0 && recent[len(recent)-1] != m.chain) {
		return nil, corruptionf(object, headerLen+int64(recentOff), "recent entry hashes do not end at position %d", m.LogSeq)
	}
	m.recent = hashList(recent)
	return m, nil
}

func encodeFence(enc *encoder, f *FenceToken) {
	if f == nil {
		enc.u8(0)
		return
	}
	enc.u8(1)
	enc.uvarint(f.Epoch)
	enc.str(f.Owner)
	enc.time(f.ClaimedAt)
}

func decodeFence(d *decoder) *FenceToken {
	switch d.u8() {
	case 0:
		return nil
	case 1:
		f := &FenceToken{Epoch: d.uvarint(), Owner: d.str(), ClaimedAt: d.time()}
		if d.err == nil && f.Epoch == 0 {
			d.fail("fence epoch 0")
		}
		return f
	default:
		d.fail("bad fence tag")
		return nil
	}
}

func encodeRun(enc *encoder, r *SortedRun) {
	enc.uvarint(uint64(r.ID))
	enc.uvarint(uint64(len(r.SSTs)))
	for i := range r.SSTs {
		encodeSST(enc, &r.SSTs[i])
	}
}

func decodeRun(d *decoder) SortedRun {
	r := SortedRun{ID: d.u32()}
	if n := d.length(minSSTLen); n > 0 {
		r.SSTs = make([]SSTMeta, n)
		for i := range r.SSTs {
			r.SSTs[i] = decodeSST(d)
		}
	}
	return r
}

func encodeSST(enc *encoder, s *SSTMeta) {
	enc.str(s.ID)
	enc.uvarint(s.Epoch)
	enc.uvarint(s.SeqLo)
	enc.uvarint(s.SeqHi)
	enc.bytes(s.MinKey)
	enc.bytes(s.MaxKey)
	enc.uvarint(uint64(s.Size))
	encodeDigest(enc, s.Checksum)
	enc.uvarint(uint64(s.Level))
	var flags uint64
	if s.HasBlobRefs {
		flags |= sstFlagBlobRefs
	}
	if s.Signature != nil {
		flags |= sstFlagSignature
	}
	enc.uvarint(flags)
	enc.time(s.CreatedAt)
	enc.uvarint(uint64(s.Bloom.BitsPerKey))
	enc.uvarint(uint64(s.Bloom.HashCount))
	enc.uvarint(s.Bloom.Keys)
	enc.uvarint(uint64(s.Bloom.Size))
	enc.uvarint(s.EntryCount)
	enc.uvarint(s.TombstoneCount)
	if sig := s.Signature; sig != nil {
		enc.str(sig.Algorithm)
		enc.str(sig.KeyID)
		encodeDigest(enc, sig.Hash)
		enc.bytes(sig.Signature)
	}
}

func decodeSST(d *decoder) SSTMeta {
	var s SSTMeta
	s.ID = d.str()
	s.Epoch = d.uvarint()
	s.SeqLo = d.uvarint()
	s.SeqHi = d.uvarint()
	s.MinKey = d.bytes()
	s.MaxKey = d.bytes()
	s.Size = d.nonNegInt64()
	s.Checksum = decodeDigest(d)
	s.Level = d.smallInt()
	flags := d.uvarint()
	if flags&^sstFlagsKnown != 0 {
		d.fail("unknown sst flags %#x", flags)
	}
	s.HasBlobRefs = flags&sstFlagBlobRefs != 0
	s.CreatedAt = d.time()
	s.Bloom.BitsPerKey = d.smallInt()
	s.Bloom.HashCount = d.smallInt()
	s.Bloom.Keys = d.uvarint()
	s.Bloom.Size = d.nonNegInt64()
	s.EntryCount = d.uvarint()
	s.TombstoneCount = d.uvarint()
	if flags&sstFlagSignature != 0 {
		sig := &SSTSignature{}
		sig.Algorithm = d.str()
		sig.KeyID = d.str()
		sig.Hash = decodeDigest(d)
		sig.Signature = d.bytes()
		s.Signature = sig
	}
	return s
}

const sha256Prefix = "sha256:"

// encodeDigest writes a "sha256:<hex>" string as 32 raw bytes when it is in canonical
// form (lowercase hex), any other string as it is.
func encodeDigest(enc *encoder, s string) {
	if s == "" {
		enc.u8(digestEmpty)
		return
	}
	if raw, ok := canonicalSHA256(s); ok {
		enc.u8(digestSHA256)
		enc.b = append(enc.b, raw...)
		return
	}
	enc.u8(digestString)
	enc.str(s)
}

func canonicalSHA256(s string) ([]byte, bool) {
	h, ok := strings.CutPrefix(s, sha256Prefix)
	if !ok || len(h) != 64 {
		return nil, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil || hex.EncodeToString(raw) != h {
		return nil, false
	}
	return raw, true
}

func decodeDigest(d *decoder) string {
	switch d.u8() {
	case digestEmpty:
		return ""
	case digestSHA256:
		if d.err != nil {
			return ""
		}
		if len(d.b)-d.off < 32 {
			d.fail("truncated digest")
			return ""
		}
		s := sha256Prefix + hex.EncodeToString(d.b[d.off:d.off+32])
		d.off += 32
		return s
	case digestString:
		s := d.str()
		if _, ok := canonicalSHA256(s); ok {
			d.fail("non-canonical digest encoding")
		}
		return s
	default:
		d.fail("bad digest tag")
		return ""
	}
}
