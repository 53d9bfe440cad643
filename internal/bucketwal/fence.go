package bucketwal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/isledb/isledb/blobstore"
)

// maxFenceAttempts bounds the positions Fence tries: each failed one is an object another
// writer landed meanwhile.
const maxFenceAttempts = 1000

// readConcurrency bounds the GETs of Fence and Read in flight.
const readConcurrency = 8

// Recovery is what Fence found: the objects a new writer must judge, and where it writes.
type Recovery struct {
	// Fence is the position of the fence object this writer wrote; its own objects start
	// after it.
	Fence uint64
	// CoveredBelow is the largest coverage any object found records: the objects below it
	// hold only records in the manifest, and were not read.
	CoveredBelow uint64
	// Objects are the objects from CoveredBelow up to the fence, by position, fences
	// included.
	Objects []*Object
}

// List returns the positions of the WAL objects in the bucket, ascending, with their
// listing entries.
func List(ctx context.Context, store *blobstore.Store) ([]uint64, map[uint64]blobstore.ObjectInfo, error) {
	objs, err := store.ListAll(ctx, Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("bucketwal: list: %w", err)
	}
	var pos []uint64
	info := make(map[uint64]blobstore.ObjectInfo, len(objs))
	for _, o := range objs {
		if p, ok := ParseKey(o.Key); ok {
			pos = append(pos, p)
			info[p] = o
		}
	}
	slices.Sort(pos)
	return pos, info, nil
}

// Fence closes the chain to the writers before epoch (see the package doc): it writes a
// fence object of epoch at the first free position after the newest object, and returns
// the objects a new writer must judge. Call it after the writer's claim in the manifest,
// and check the claim again afterwards (the writer must give up if another writer claimed
// meanwhile): then every later claimer's fence lands after this one, and a Committer that
// finds an older epoch's fence at its position (a writer that claimed before it but
// fenced after it, and fails that check) may go past it.
func Fence(ctx context.Context, store *blobstore.Store, epoch uint64) (*Recovery, error) {
	pos, _, err := List(ctx, store)
	if err != nil {
		return nil, err
	}
	rec := &Recovery{}
	var top *Object
	if len(pos) > 0 {
		if top, err = ReadObject(ctx, store, pos[len(pos)-1]); err != nil {
			return nil, err
		}
		rec.CoveredBelow = top.CoveredBelow
	}
	next := uint64(1)
	if len(pos) > 0 {
		next = pos[len(pos)-1] + 1
	}
	var late []*Object // objects landed after the listing
	for range maxFenceAttempts {
		o := Object{Kind: KindFence, Position: next, Epoch: epoch, CoveredBelow: rec.CoveredBelow}
		_, err := store.WriteIfNotExist(ctx, Key(next), Encode(nil, &o))
		if err == nil {
			rec.Fence = next
			break
		}
		if !errors.Is(err, blobstore.ErrPreconditionFailed) {
			return nil, fmt.Errorf("bucketwal: write fence %s: %w", Key(next), err)
		}
		got, err := ReadObject(ctx, store, next)
		if err != nil {
			return nil, err
		}
		late = append(late, got)
		rec.CoveredBelow = max(rec.CoveredBelow, got.CoveredBelow)
		next++
	}
	if rec.Fence == 0 {
		return nil, fmt.Errorf("bucketwal: write fence: %d positions taken in a row", maxFenceAttempts)
	}
	var want []uint64
	for _, p := range pos {
		if p >= rec.CoveredBelow && (top == nil || p != top.Position) {
			want = append(want, p)
		}
	}
	objs, err := ReadObjects(ctx, store, want)
	if err != nil {
		return nil, err
	}
	if top != nil && top.Position >= rec.CoveredBelow {
		objs = append(objs, top)
	}
	for _, o := range late {
		if o.Position >= rec.CoveredBelow {
			objs = append(objs, o)
		}
	}
	slices.SortFunc(objs, func(a, b *Object) int { return cmpUint(a.Position, b.Position) })
	rec.Objects = objs
	return rec, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ReadObject reads and decodes the object at pos, checking that it names pos.
func ReadObject(ctx context.Context, store *blobstore.Store, pos uint64) (*Object, error) {
	key := Key(pos)
	data, _, err := store.Read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("bucketwal: read %s: %w", key, err)
	}
	o, err := Decode(key, data)
	if err != nil {
		return nil, err
	}
	if o.Position != pos {
		return nil, fmt.Errorf("%w: WAL object %s names position %d", ErrCorruption, key, o.Position)
	}
	return o, nil
}

// ReadObjects reads the objects at pos, a few at a time, in the order given.
func ReadObjects(ctx context.Context, store *blobstore.Store, pos []uint64) ([]*Object, error) {
	out := make([]*Object, len(pos))
	errs := make([]error, len(pos))
	sem := make(chan struct{}, readConcurrency)
	var wg sync.WaitGroup
	for i, p := range pos {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = ReadObject(ctx, store, p)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// MarkCovered writes, after a new writer's recovery, a fence object of epoch at pos (the
// position after its fence) recording that every object below pos is covered: the records
// it found are in the manifest now, or were discarded on request. Later writers, readers
// and GC then start after them. It fails with an error wrapping manifest.ErrFenced if
// another writer took the position.
func MarkCovered(ctx context.Context, store *blobstore.Store, epoch, pos uint64) error {
	data := Encode(nil, &Object{Kind: KindFence, Position: pos, Epoch: epoch, CoveredBelow: pos})
	return putOwn(ctx, store, pos, epoch, data)
}
