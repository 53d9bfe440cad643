package manifest

import "iter"

// SSTs yields every SST of m: L0 newest first, then each sorted run's in key order, runs in
// the manifest's order (newest first). The pointers point into m: do not modify what they
// point to. It is the one walk over L0 plus the runs; callers that need a slice use
// CopySSTs.
func (m *Manifest) SSTs() iter.Seq[*SSTMeta] {
	return func(yield func(*SSTMeta) bool) {
		for i := range m.L0SSTs {
			if !yield(&m.L0SSTs[i]) {
				return
			}
		}
		for r := range m.SortedRuns {
			ssts := m.SortedRuns[r].SSTs
			for i := range ssts {
				if !yield(&ssts[i]) {
					return
				}
			}
		}
	}
}

// CopySSTs returns a copy of every SST's metadata, in the order of SSTs. The copies share
// their key and checksum bytes with m.
func (m *Manifest) CopySSTs() []SSTMeta {
	out := make([]SSTMeta, 0, m.sstCount())
	for s := range m.SSTs() {
		out = append(out, *s)
	}
	return out
}

// sstCount returns the number of SSTs in L0 and every run.
func (m *Manifest) sstCount() int {
	n := len(m.L0SSTs)
	for _, r := range m.SortedRuns {
		n += len(r.SSTs)
	}
	return n
}
