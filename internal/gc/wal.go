package gc

import (
	"context"
	"fmt"

	"github.com/isledb/isledb/internal/bucketwal"
)

// Garbage collection of bucket WAL objects (WriterOptions.BucketWAL).
//
// Each WAL object records CoveredBelow: when its writer wrote it, every record in an
// object at a lower position was in the manifest (flushed to an SST). A GC pass reads the
// newest object and deletes the objects below its CoveredBelow whose modification time is
// a grace period old. It never deletes the newest object, which tells the next writer where
// the chain continues (a fence must go after it). The grace period covers a fenced writer's
// PUT delayed in the network past the moment its fence object would otherwise have been
// deleted, on the same assumption as the deferred deletion of SSTs: a request takes effect
// within the grace period of being sent.

// walPass deletes the WAL objects the manifest covers (see above), counting them in st.
func (g *Collector) walPass(ctx context.Context, st *Stats) error {
	pos, info, err := bucketwal.List(ctx, g.store)
	if err != nil {
		return fmt.Errorf("isledb: gc: %w", err)
	}
	if len(pos) < 2 {
		return nil
	}
	top, err := bucketwal.ReadObject(ctx, g.store, pos[len(pos)-1])
	if err != nil {
		return fmt.Errorf("isledb: gc: %w", err)
	}
	now := g.clock()
	var del []string
	for _, p := range pos[:len(pos)-1] {
		if p < top.CoveredBelow && now.Sub(info[p].ModTime) >= g.opts.Grace {
			del = append(del, bucketwal.Key(p))
		}
	}
	if len(del) == 0 {
		return nil
	}
	if _, err := deleteObjects(ctx, g.store, del); err != nil {
		return fmt.Errorf("isledb: gc: delete WAL objects: %w", err)
	}
	st.WALObjectsDeleted += len(del)
	return nil
}
