package gc

// Stats counts the work of garbage collection: of one pass or, summed with Add, of all
// passes so far. The root package's GCStats has the same fields and converts from it.
type Stats struct {
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
	// WALObjectsDeleted counts the bucket WAL objects deleted (wal.go).
	WALObjectsDeleted int
}

// Add adds the counts of o to s; Pending becomes o's.
func (s *Stats) Add(o Stats) {
	s.Passes += o.Passes
	s.SSTsDeleted += o.SSTsDeleted
	s.SSTBytesDeleted += o.SSTBytesDeleted
	s.BlobsDeleted += o.BlobsDeleted
	s.BlobBytesDeleted += o.BlobBytesDeleted
	s.OrphansFound += o.OrphansFound
	s.WALObjectsDeleted += o.WALObjectsDeleted
	s.Pending = o.Pending
}
