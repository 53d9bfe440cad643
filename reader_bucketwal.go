package isledb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/bucketwal"
	"github.com/isledb/isledb/internal/mergeiter"
	"github.com/isledb/isledb/manifest"
)

// Reading the bucket WAL (ReaderOpenOptions.ReadBucketWAL).
//
// The reader keeps the records of the WAL objects that its manifest does not cover yet (an
// overlay, newer than every SST): Get, Scan, iterators and so a TailingReader's Tail see a
// write once its Sync returned and the reader refreshed, before any flush. Snapshots read
// their manifest version only. At open the reader lists wal/ and reads the objects from
// the newest one's coverage on; each Refresh then reads the next positions until one is
// missing (one GET of a missing object when nothing is new). Only objects of the chain
// are read, so a fenced writer's late writes never appear. If GC deleted the next position
// before the reader read it (see refreshWAL), the reader lists wal/ again and goes on from
// the next object there.

// walOverlay is the reader's view of the bucket WAL past its manifest. Immutable.
type walOverlay struct {
	next    uint64            // the next position to read
	covered uint64            // the largest coverage an object read records
	entries []mergeiter.Entry // internal order: key ascending, then sequence descending
	pos     []uint64          // pos[i]: the position of the object entries[i] came from
}

// newest returns the newest entry of key.
func (o *walOverlay) newest(key []byte) (mergeiter.Entry, bool) {
	i, _ := slices.BinarySearchFunc(o.entries, key, func(e mergeiter.Entry, k []byte) int { return bytes.Compare(e.Key, k) })
	if i < len(o.entries) && bytes.Equal(o.entries[i].Key, key) {
		return o.entries[i], true
	}
	return mergeiter.Entry{}, false
}

// refreshWAL reads the WAL objects written since the last look and drops the records the
// manifest m now covers; changed reports that m is new since the last look.
//
// The next position can be missing because GC deleted it before the reader read it only
// if the reader did not look for a grace period (it reads every object as soon as it
// exists), and then the flush that covered the object came after the last look: the
// manifest changed. So the reader lists wal/ again only then.
func (r *Reader) refreshWAL(ctx context.Context, m *manifest.Manifest, changed bool) error {
	old := r.walView.Load()
	var next uint64
	var objs []*bucketwal.Object
	if old == nil {
		pos, _, err := bucketwal.List(ctx, r.store)
		if err != nil {
			return err
		}
		next = 1
		if len(pos) > 0 {
			top, err := bucketwal.ReadObject(ctx, r.store, pos[len(pos)-1])
			if err != nil {
				return err
			}
			i, _ := slices.BinarySearch(pos, top.CoveredBelow)
			if objs, err = bucketwal.ReadObjects(ctx, r.store, pos[i:len(pos)-1]); err != nil {
				return err
			}
			objs = append(objs, top)
			next = top.Position + 1
		}
	} else {
		next = old.next
	}
	for relisted := false; ; {
		o, err := bucketwal.ReadObject(ctx, r.store, next)
		if errors.Is(err, blobstore.ErrNotFound) {
			if relisted || old == nil || !changed {
				break
			}
			// GC may have deleted it (covered): go on from the next object listed, if any.
			relisted = true
			pos, _, err := bucketwal.List(ctx, r.store)
			if err != nil {
				return err
			}
			i, _ := slices.BinarySearch(pos, next)
			if i == len(pos) {
				break
			}
			next = pos[i]
			continue
		}
		if err != nil {
			return err
		}
		objs = append(objs, o)
		next++
	}
	// A record is dropped once the manifest holds it, or once a later object says its
	// object is covered (the next writer replayed and flushed it, or was told to discard it).
	maxSeq := m.MaxSeqNum()
	covered := uint64(0)
	if old != nil {
		covered = old.covered
	}
	for _, o := range objs {
		covered = max(covered, o.CoveredBelow)
	}
	var entries []mergeiter.Entry
	var posOf []uint64
	if old != nil {
		for i, e := range old.entries {
			if uint64(e.Seq) > maxSeq && old.pos[i] >= covered {
				entries, posOf = append(entries, e), append(posOf, old.pos[i])
			}
		}
	}
	added := false
	for _, o := range objs {
		if o.Kind != bucketwal.KindData || o.SeqHi <= maxSeq || o.Position < covered {
			continue
		}
		for i, b := range o.Records {
			rs, err := decodeBucketRecord(b)
			if err != nil {
				return fmt.Errorf("isledb: read bucket WAL object %s record %d: %w", bucketwal.Key(o.Position), i, err)
			}
			for _, rec := range rs {
				if uint64(rec.seq) > maxSeq {
					entries = append(entries, mergeiter.Entry{Key: rec.key, Value: rec.value, Seq: rec.seq, Kind: rec.kind, Expiry: rec.expiry})
					posOf = append(posOf, o.Position)
					added = true
				}
			}
		}
	}
	if added {
		idx := make([]int, len(entries))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			return base.CompareInternal(entries[a].Key, entries[a].Seq, entries[b].Key, entries[b].Seq)
		})
		se, sp := make([]mergeiter.Entry, len(idx)), make([]uint64, len(idx))
		for i, j := range idx {
			se[i], sp[i] = entries[j], posOf[j]
		}
		entries, posOf = se, sp
	}
	r.walView.Store(&walOverlay{next: next, covered: covered, entries: entries, pos: posOf})
	return nil
}

// walGet is Get's look at the overlay: the newest version of key there when it is newer
// than the SSTs of m (then ok), else ok is false and the SSTs answer.
func (r *Reader) walGet(ctx context.Context, m *manifest.Manifest, now int64, key []byte) (value []byte, found, ok bool, err error) {
	ov := r.walView.Load()
	if ov == nil {
		return nil, false, false, nil
	}
	e, has := ov.newest(key)
	if !has {
		return nil, false, false, nil
	}
	if uint64(e.Seq) <= m.MaxSeqNum() {
		// The manifest covers it (refreshed since the overlay was built): is the SSTs'
		// version newer?
		se, sok, err := r.lookup(ctx, m, key)
		if err != nil {
			return nil, false, true, err
		}
		if sok && se.Seq >= e.Seq {
			return nil, false, false, nil
		}
	}
	if e.Kind == base.KindDelete || expired(e.Expiry, now) {
		return nil, false, true, nil
	}
	return bytes.Clone(e.Value), true, true, nil
}

// walInput returns the overlay's entries as an iterator input, or nil.
func (r *Reader) walInput() mergeiter.Input {
	ov := r.walView.Load()
	if ov == nil || len(ov.entries) == 0 {
		return nil
	}
	return mergeiter.NewSliceInput(ov.entries)
}
