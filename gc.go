package isledb

import (
	"context"
	"fmt"
	"time"

	"github.com/isledb/isledb/internal/gc"
)

// Garbage collection is internal/gc: the deferred deletion of SSTs, blob GC, the deletion
// of bucket WAL objects, and the GC state objects (its package documentation has the
// protocols and why they are safe). The compactors own a gc.Collector (compactor.go),
// writers call gc.ClaimBlobs during flushes (writer.go), and DB.PlanGC (gc_plan.go) reads
// the marks. This file holds the public names.

// GCStats counts the work of garbage collection: of one pass (RunGC) or, in compactor
// stats, of all passes so far.
type GCStats struct {
	// Passes is the number of GC passes.
	Passes int
	// SSTsDeleted and SSTBytesDeleted count the SST objects deleted.
	SSTsDeleted     int
	SSTBytesDeleted int64
	// BlobsDeleted and BlobBytesDeleted count the blob objects deleted.
	BlobsDeleted     int
	BlobBytesDeleted int64
	// OrphansFound counts SST objects first found in no manifest.
	OrphansFound int
	// Pending is the number of SSTs waiting out their grace period after the last pass.
	Pending int
	// WALObjectsDeleted counts the bucket WAL objects deleted.
	WALObjectsDeleted int
}

// String formats the counts on one line.
func (s GCStats) String() string {
	return fmt.Sprintf("%d passes; deleted %d ssts (%d B), %d blobs (%d B); %d orphans found; %d pending",
		s.Passes, s.SSTsDeleted, s.SSTBytesDeleted, s.BlobsDeleted, s.BlobBytesDeleted, s.OrphansFound, s.Pending)
}

// The defaults of the GC options shared by CompactorOptions and RetentionCompactorOptions.
const (
	DefaultGCGracePeriod = 10 * time.Minute
	DefaultGCInterval    = time.Minute
)

// runGCPass runs one pass of g, converting its counts to the public type.
func runGCPass(ctx context.Context, g *gc.Collector) (GCStats, error) {
	st, err := g.Pass(ctx)
	return GCStats(st), err
}

// add adds the counts of o to s (gc.Stats.Add); Pending becomes o's.
func (s *GCStats) add(o GCStats) {
	t := gc.Stats(*s)
	t.Add(gc.Stats(o))
	*s = GCStats(t)
}
