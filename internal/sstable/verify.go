package sstable

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/isledb/isledb/internal/base"
)

// verifyReadSize is the size of the reads Verify issues over a Source.
const verifyReadSize = 1 << 20

// VerifyFile opens the file behind src and checks all of it (see Reader.Verify). It is the
// check a consistency checker or the CLI's verify command runs: it reads every byte once.
func VerifyFile(ctx context.Context, src Source, opts ReaderOptions) (*Metadata, error) {
	opts.Cache = nil
	r, err := Open(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Verify(ctx)
}

// Verify reads every data block, bypassing the block cache, and checks every checksum and
// everything that can be checked about the contents: entries in strict internal order within
// and across blocks and bounded by the index separators, restart points on whole keys, every
// key present in the filter, and counts, key and sequence ranges equal to the properties. It
// returns the file's metadata with its SHA-256 computed over all bytes, for comparison with
// the checksum the manifest recorded. Problems are reported as corruption errors.
//
// Open alone verifies the footer and meta blocks, and lookups verify each block they read;
// Verify also covers the blocks no lookup has touched.
func (r *Reader) Verify(ctx context.Context) (*Metadata, error) {
	v := verifier{r: r, sum: sha256.New()}
	var ra readahead
	for i := range r.index.entries {
		h := r.index.entries[i].handle
		var raw []byte
		if r.data != nil {
			raw = r.data[h.offset:h.end()]
		} else if ra.contains(h) {
			raw = ra.slice(h)
		} else {
			ra.seq = 1
			var err error
			if raw, err = r.readahead(ctx, i, &ra, verifyReadSize); err != nil {
				return nil, err
			}
		}
		v.sum.Write(raw)
		contents, _, err := decodeBlock(raw, r.object, int64(h.offset))
		if err != nil {
			return nil, err
		}
		if err := v.block(i, contents); err != nil {
			return nil, err
		}
	}
	return v.finish()
}

// verifier accumulates what Verify has seen.
type verifier struct {
	r       *Reader
	sum     hash.Hash
	p       Properties
	prevKey []byte
	prevSeq base.SeqNum
}

// block checks data block i.
func (v *verifier) block(i int, contents []byte) error {
	r := v.r
	off := int64(r.index.entries[i].handle.offset)
	var it blockIter
	if err := it.init(contents, r.object, off); err != nil {
		return err
	}
	sepKey, sepSeq := r.index.key(i), r.index.entries[i].seq
	nextRestart := 0
	for ok := it.first(); ok; ok = it.nextEntry() {
		key, seq := it.key, it.seq()
		if nextRestart < it.numRestarts {
			ro, _ := it.restartOffset(nextRestart)
			if ro < it.offset {
				return corruptf(r.object, off, "restart point %d at +%d is not an entry", nextRestart, ro)
			}
			if ro == it.offset {
				if _, ok := it.restartKey(ro); !ok {
					return it.err
				}
				nextRestart++
			}
		}
		if v.p.EntryCount > 0 {
			c := base.CompareInternal(v.prevKey, v.prevSeq, key, seq)
			if c >= 0 {
				return corruptf(r.object, off, "entry %s#%d at +%d does not sort after %s#%d", keyString(key), seq, it.offset, keyString(v.prevKey), v.prevSeq)
			}
		}
		if base.CompareInternal(key, seq, sepKey, sepSeq) > 0 {
			return corruptf(r.object, off, "entry %s#%d at +%d sorts after its index separator %s#%d", keyString(key), seq, it.offset, keyString(sepKey), sepSeq)
		}
		if v.p.EntryCount == 0 || !bytes.Equal(key, v.prevKey) {
			if !r.filter.mayContain(hash64(key)) {
				return corruptf(r.object, int64(r.footer.filter.offset), "filter does not contain key %s", keyString(key))
			}
		}
		e := Entry{Key: key, Value: it.value, Seq: seq, Kind: it.kind(), Expiry: it.expiry}
		if v.p.EntryCount == 0 {
			v.p.MinKey = append([]byte(nil), key...)
			v.p.MinSeq, v.p.MaxSeq = seq, seq
		}
		v.p.EntryCount++
		v.p.MinSeq, v.p.MaxSeq = min(v.p.MinSeq, seq), max(v.p.MaxSeq, seq)
		switch e.Kind {
		case base.KindDelete:
			v.p.TombstoneCount++
		case base.KindBlobRef:
			v.p.BlobRefCount++
		}
		if e.Expiry != 0 {
			if v.p.ExpiringCount == 0 {
				v.p.MinExpiry, v.p.MaxExpiry = e.Expiry, e.Expiry
			}
			v.p.ExpiringCount++
			v.p.MinExpiry, v.p.MaxExpiry = min(v.p.MinExpiry, e.Expiry), max(v.p.MaxExpiry, e.Expiry)
		}
		v.p.RawKeySize += uint64(len(key))
		v.p.RawValueSize += uint64(len(e.Value))
		v.prevKey = append(v.prevKey[:0], key...)
		v.prevSeq = seq
	}
	if it.err != nil {
		return it.err
	}
	if it.restartsOff == 0 {
		return corruptf(r.object, off, "empty data block")
	}
	if nextRestart != it.numRestarts {
		return corruptf(r.object, off, "restart point %d is not an entry", nextRestart)
	}
	v.p.DataSize += uint64(r.index.entries[i].handle.end()) - uint64(off)
	return nil
}

// finish compares what was seen with the properties and returns the metadata.
func (v *verifier) finish() (*Metadata, error) {
	r := v.r
	v.sum.Write(r.meta)
	v.sum.Write(r.footer.encode())
	got, want := &v.p, &r.props
	var bad string
	switch {
	case got.EntryCount != want.EntryCount:
		bad = "entry count"
	case got.EntryCount > 0 && (!bytes.Equal(got.MinKey, want.MinKey) || !bytes.Equal(v.prevKey, want.MaxKey)):
		bad = "key range"
	case got.MinSeq != want.MinSeq || got.MaxSeq != want.MaxSeq:
		bad = "sequence range"
	case got.TombstoneCount != want.TombstoneCount || got.BlobRefCount != want.BlobRefCount:
		bad = "tombstone or blob reference count"
	case got.ExpiringCount != want.ExpiringCount || got.MinExpiry != want.MinExpiry || got.MaxExpiry != want.MaxExpiry:
		bad = "expiry statistics"
	case got.RawKeySize != want.RawKeySize || got.RawValueSize != want.RawValueSize:
		bad = "raw sizes"
	case got.DataSize != want.DataSize:
		bad = "data size"
	case (r.footer.filter.length > 0) != (want.BloomBitsPerKey > 0) || (want.BloomBitsPerKey > 0 && want.BloomProbes != r.filter.probes):
		bad = "bloom parameters"
	}
	if bad != "" {
		return nil, corruptf(r.object, int64(r.footer.props.offset), "properties disagree with the data: %s", bad)
	}
	m := &Metadata{
		Size:            r.size,
		EntryCount:      want.EntryCount,
		MinKey:          want.MinKey,
		MaxKey:          want.MaxKey,
		SeqLo:           want.MinSeq,
		SeqHi:           want.MaxSeq,
		HasBlobRefs:     want.HasBlobRefs(),
		BloomBitsPerKey: want.BloomBitsPerKey,
		BloomProbes:     want.BloomProbes,
		CreatedAt:       want.CreationTime,
		Properties:      *want,
	}
	v.sum.Sum(m.SHA256[:0])
	m.Checksum = ChecksumPrefix + hex.EncodeToString(m.SHA256[:])
	return m, nil
}
