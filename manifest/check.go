package manifest

import (
	"fmt"
)

// Check verifies m's structural invariants: every SST's metadata is well formed and its id
// unique across L0 and all runs; run ids are unique, non-zero and below NextSortedRunID;
// each run is non-empty, sorted by key and free of overlaps; fence epochs are below
// NextEpoch and distinct. It returns nil or an error matching ErrCorruption that names the
// first violation. Replay checks every snapshot it loads; tests and the CLI's verify check
// replayed manifests. It does not look at the SST objects themselves.
func (m *Manifest) Check() error {
	bad := func(format string, args ...any) error {
		return corruptionf(fmt.Sprintf("manifest@%d", m.LogSeq), -1, format, args...)
	}
	if m.NextEpoch == 0 || m.NextSortedRunID == 0 {
		return bad("next epoch %d, next run id %d: both start at 1", m.NextEpoch, m.NextSortedRunID)
	}
	for _, f := range []*FenceToken{m.WriterFence, m.CompactorFence} {
		if f != nil && (f.Epoch == 0 || f.Epoch >= m.NextEpoch) {
			return bad("fence epoch %d outside [1, %d)", f.Epoch, m.NextEpoch)
		}
	}
	if m.WriterFence != nil && m.CompactorFence != nil && m.WriterFence.Epoch == m.CompactorFence.Epoch {
		return bad("writer and compactor share epoch %d", m.WriterFence.Epoch)
	}
	if len(m.WriterHistory) > MaxWriterHistory {
		return bad("writer history of %d tenures, more than %d", len(m.WriterHistory), MaxWriterHistory)
	}
	for i, t := range m.WriterHistory {
		if t.Epoch == 0 || t.Epoch >= m.NextEpoch || (i > 0 && t.Epoch <= m.WriterHistory[i-1].Epoch) {
			return bad("writer history: epoch %d out of order or outside [1, %d)", t.Epoch, m.NextEpoch)
		}
	}
	ids := make(map[string]struct{}, m.sstCount())
	unique := func(id string) error {
		if _, dup := ids[id]; dup {
			return bad("sst %q appears twice", id)
		}
		ids[id] = struct{}{}
		return nil
	}
	for i := range m.L0SSTs {
		if err := validateSST(&m.L0SSTs[i]); err != nil {
			return bad("L0: %v", err)
		}
		if err := unique(m.L0SSTs[i].ID); err != nil {
			return err
		}
	}
	runs := make(map[uint32]struct{}, len(m.SortedRuns))
	for i := range m.SortedRuns {
		r := &m.SortedRuns[i]
		if _, dup := runs[r.ID]; dup {
			return bad("run %d appears twice", r.ID)
		}
		runs[r.ID] = struct{}{}
		if r.ID >= m.NextSortedRunID {
			return bad("run %d not below the next run id %d", r.ID, m.NextSortedRunID)
		}
		if err := validateRun(r); err != nil {
			return bad("%v", err)
		}
		for j := range r.SSTs {
			if err := unique(r.SSTs[j].ID); err != nil {
				return err
			}
		}
	}
	return nil
}
