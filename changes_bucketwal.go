package isledb

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/mergeiter"
)

// walChanges continues the change feed from next with the reader's bucket WAL overlay
// (ReadBucketWAL): the writes there whose sequence numbers follow next without a gap, in
// order, and returns where to resume. A gap (writes flushed but not yet in the reader's
// manifest, or a lost writer's writes that never reached the bucket) stops it: the feed
// then waits for the manifest to pass the gap, so it never skips a write.
func (r *Reader) walChanges(ctx context.Context, next uint64, opts ChangeOptions, handler func(Change) error) (uint64, error) {
	ov := r.walView.Load()
	if ov == nil || len(ov.entries) == 0 {
		return next, nil
	}
	es := make([]mergeiter.Entry, 0, len(ov.entries))
	for _, e := range ov.entries {
		if uint64(e.Seq) >= next {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b mergeiter.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range es {
		if uint64(e.Seq) != next {
			break
		}
		next++
		if (opts.MinKey != nil && bytes.Compare(e.Key, opts.MinKey) < 0) || (opts.MaxKey != nil && bytes.Compare(e.Key, opts.MaxKey) > 0) {
			continue
		}
		c := Change{Seq: uint64(e.Seq), Key: bytes.Clone(e.Key), Delete: e.Kind == base.KindDelete}
		if !c.Delete {
			c.Value = bytes.Clone(e.Value)
		}
		if e.Expiry != 0 {
			c.ExpiresAt = time.Unix(0, e.Expiry)
		}
		if err := handler(c); err != nil {
			return next - 1, err
		}
		if err := ctx.Err(); err != nil {
			return next, err
		}
	}
	return next, nil
}
