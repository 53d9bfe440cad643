package compaction

import (
	"bytes"

	"github.com/isledb/isledb/manifest"
)

// Plan is a compaction chosen from a manifest: L0 SSTs, or consecutive sorted runs, to merge
// into one new sorted run.
type Plan struct {
	// L0 are the L0 SSTs to merge: the oldest ones of L0, in manifest order (newest first).
	L0 []manifest.SSTMeta
	// Runs are the sorted runs to merge: consecutive in the manifest, newest first.
	Runs []manifest.SortedRun
	// Bottom says that no older SST (of a run after the inputs) overlaps the inputs' key
	// range, so the output is the oldest data for its keys.
	Bottom bool
}

// Inputs returns the plan's merge inputs: each L0 SST alone, each run whole.
func (p *Plan) Inputs() []Input {
	in := make([]Input, 0, len(p.L0)+len(p.Runs))
	for i := range p.L0 {
		in = append(in, Input{SSTs: p.L0[i : i+1]})
	}
	for _, r := range p.Runs {
		in = append(in, Input{SSTs: r.SSTs})
	}
	return in
}

// L0IDs returns the ids of the L0 inputs.
func (p *Plan) L0IDs() []string {
	ids := make([]string, len(p.L0))
	for i, s := range p.L0 {
		ids[i] = s.ID
	}
	return ids
}

// RunIDs returns the ids of the run inputs.
func (p *Plan) RunIDs() []uint32 {
	ids := make([]uint32, len(p.Runs))
	for i, r := range p.Runs {
		ids[i] = r.ID
	}
	return ids
}

// SSTs returns every input SST: L0 first, then the runs'.
func (p *Plan) SSTs() []manifest.SSTMeta {
	out := append([]manifest.SSTMeta(nil), p.L0...)
	for _, r := range p.Runs {
		out = append(out, r.SSTs...)
	}
	return out
}

// PickL0 returns the merge of the oldest L0 SSTs, at most maxInputs of them, if L0 holds
// at least threshold SSTs; otherwise nil. The output becomes the newest run: every L0 SST
// left is newer than the inputs.
func PickL0(m *manifest.Manifest, threshold, maxInputs int) *Plan {
	n := len(m.L0SSTs)
	if n == 0 || n < threshold {
		return nil
	}
	p := &Plan{L0: m.L0SSTs[n-min(n, max(maxInputs, 1)):]}
	lo, hi := p.keyRange()
	p.Bottom = !overlapsAny(lo, hi, m.SortedRuns)
	return p
}

// PickRuns returns the merge of minSources to maxSources consecutive sorted runs whose
// sizes are similar: the largest run of the window is at most sizeThreshold times the
// smallest. Among the qualifying windows it picks the cheapest, the one rewriting the fewest
// bytes per run it removes (total size / (runs - 1)); on a tie, the older window. It returns
// nil if no window qualifies.
func PickRuns(m *manifest.Manifest, minSources, maxSources, sizeThreshold int) *Plan {
	runs := m.SortedRuns
	minSources = max(minSources, 2)
	sizes := make([]int64, len(runs))
	for i, r := range runs {
		sizes[i] = RunSize(r)
	}
	bestI, bestJ := -1, -1
	var bestCost float64
	for i := range runs {
		lo, hi, total := sizes[i], sizes[i], int64(0)
		for j := i; j < len(runs) && j-i+1 <= maxSources; j++ {
			lo, hi, total = min(lo, sizes[j]), max(hi, sizes[j]), total+sizes[j]
			if hi > int64(sizeThreshold)*lo {
				break
			}
			n := j - i + 1
			if n < minSources {
				continue
			}
			cost := float64(total) / float64(n-1)
			if bestI < 0 || cost <= bestCost {
				bestI, bestJ, bestCost = i, j, cost
			}
		}
	}
	if bestI < 0 {
		return nil
	}
	p := &Plan{Runs: runs[bestI : bestJ+1]}
	lo, hi := p.keyRange()
	p.Bottom = !overlapsAny(lo, hi, runs[bestJ+1:])
	return p
}

// RunSize returns the total size of a run's SSTs.
func RunSize(r manifest.SortedRun) int64 {
	var n int64
	for _, s := range r.SSTs {
		n += s.Size
	}
	return n
}

// keyRange returns the smallest and largest key of the plan's inputs.
func (p *Plan) keyRange() (lo, hi []byte) {
	for _, s := range p.SSTs() {
		if lo == nil || bytes.Compare(s.MinKey, lo) < 0 {
			lo = s.MinKey
		}
		if hi == nil || bytes.Compare(s.MaxKey, hi) > 0 {
			hi = s.MaxKey
		}
	}
	return lo, hi
}

// overlapsAny reports whether an SST of runs overlaps [lo, hi].
func overlapsAny(lo, hi []byte, runs []manifest.SortedRun) bool {
	for _, r := range runs {
		for _, s := range r.SSTs {
			if bytes.Compare(s.MaxKey, lo) >= 0 && bytes.Compare(s.MinKey, hi) <= 0 {
				return true
			}
		}
	}
	return false
}
