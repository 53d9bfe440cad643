package manifest

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
)

// This file holds the rules of the manifest's state machine: which entries are valid on a
// given manifest, and the manifest each produces. Appenders validate before they write, so
// every entry in the log applies cleanly on the state its appender saw; replay enforces the
// same rules and reports a violation as corruption.

// fenceOf returns m's current fence of role.
func fenceOf(m *Manifest, role Role) *FenceToken {
	switch role {
	case RoleWriter:
		return m.WriterFence
	case RoleCompactor:
		return m.CompactorFence
	}
	return nil
}

// isCurrent reports whether e was appended under the fence that is current in m (for a
// claim: whether it claims the next epoch). Replay ignores entries that are not: they can
// only come from an appender that bypassed the protocol, and none was acknowledged.
func isCurrent(m *Manifest, e *ManifestLogEntry) bool {
	if e.Kind == EntryClaimFence {
		return e.Epoch == m.NextEpoch
	}
	f := fenceOf(m, e.Role)
	return f != nil && f.Epoch == e.Epoch
}

// step applies e, whose object hashes to hash, to m and returns the new manifest; m is not
// modified. It checks that e is the next entry of m's chain; an entry that is not current
// advances the position only.
func step(object string, m *Manifest, e *ManifestLogEntry, hash uint64) (*Manifest, error) {
	if uint64(e.Seq) != m.LogSeq+1 {
		return nil, corruptionf(object, -1, "entry %d follows position %d", e.Seq, m.LogSeq)
	}
	if e.PrevHash != m.chain {
		return nil, corruptionf(object, -1, "entry %d names predecessor hash %#016x, entry %d hashes to %#016x",
			e.Seq, e.PrevHash, m.LogSeq, m.chain)
	}
	if !isCurrent(m, e) {
		n := m.shallowCopy()
		n.LogSeq, n.chain, n.recent = uint64(e.Seq), hash, pushHash(m.recent, hash)
		return n, nil
	}
	if err := validateEdit(m, e); err != nil {
		return nil, corruptionf(object, -1, "entry %d does not apply: %v", e.Seq, err)
	}
	n := applyEdit(m, e)
	n.LogSeq, n.chain, n.recent = uint64(e.Seq), hash, pushHash(m.recent, hash)
	return n, nil
}

// validateSST checks one SST's metadata.
func validateSST(s *SSTMeta) error {
	switch {
	case s.ID == "":
		return fmt.Errorf("%w: empty sst id", ErrInvalidEdit)
	case strings.Contains(s.ID, "/"):
		return fmt.Errorf("%w: sst id %q holds a slash", ErrInvalidEdit, s.ID)
	case s.SeqLo > s.SeqHi:
		return fmt.Errorf("%w: sst %q: seq lo %d > seq hi %d", ErrInvalidEdit, s.ID, s.SeqLo, s.SeqHi)
	case bytes.Compare(s.MinKey, s.MaxKey) > 0:
		return fmt.Errorf("%w: sst %q: min key %q > max key %q", ErrInvalidEdit, s.ID, s.MinKey, s.MaxKey)
	case s.Size < 0 || s.Level < 0 || s.Level > math.MaxInt32 || s.Bloom.BitsPerKey < 0 ||
		s.Bloom.BitsPerKey > math.MaxInt32 || s.Bloom.HashCount < 0 || s.Bloom.HashCount > math.MaxInt32 ||
		s.Bloom.Size < 0:
		return fmt.Errorf("%w: sst %q: negative or oversized size, level or bloom field", ErrInvalidEdit, s.ID)
	}
	if err := blobstore.ValidateKey(base.SSTKey(s.ID)); err != nil {
		return fmt.Errorf("%w: sst id %q: %v", ErrInvalidEdit, s.ID, err)
	}
	return nil
}

// validateRun checks a run's SSTs: valid, sorted by key, non-overlapping, unique ids.
func validateRun(r *SortedRun) error {
	if len(r.SSTs) == 0 {
		return fmt.Errorf("%w: run %d is empty", ErrInvalidEdit, r.ID)
	}
	if r.ID == 0 || r.ID == math.MaxUint32 {
		return fmt.Errorf("%w: run id %d out of range", ErrInvalidEdit, r.ID)
	}
	seen := make(map[string]struct{}, len(r.SSTs))
	for i := range r.SSTs {
		s := &r.SSTs[i]
		if err := validateSST(s); err != nil {
			return err
		}
		if _, dup := seen[s.ID]; dup {
			return fmt.Errorf("%w: run %d lists sst %q twice", ErrInvalidEdit, r.ID, s.ID)
		}
		seen[s.ID] = struct{}{}
		if i > 0 && bytes.Compare(r.SSTs[i-1].MaxKey, s.MinKey) >= 0 {
			return fmt.Errorf("%w: run %d: sst %q overlaps or precedes sst %q", ErrInvalidEdit, r.ID, s.ID, r.SSTs[i-1].ID)
		}
	}
	return nil
}

// sstLocation says where an SST is: run index -1 for L0.
type sstLocation struct{ run, index int }

// locate returns where each SST whose id is in ids sits in m (absent ids are missing from
// the result). One scan of m, with lookups in a map the size of ids.
func locate(m *Manifest, ids map[string]struct{}) map[string]sstLocation {
	loc := make(map[string]sstLocation, len(ids))
	if len(ids) == 0 {
		return loc
	}
	for i := range m.L0SSTs {
		if _, ok := ids[m.L0SSTs[i].ID]; ok {
			loc[m.L0SSTs[i].ID] = sstLocation{-1, i}
		}
	}
	for r := range m.SortedRuns {
		for i := range m.SortedRuns[r].SSTs {
			if _, ok := ids[m.SortedRuns[r].SSTs[i].ID]; ok {
				loc[m.SortedRuns[r].SSTs[i].ID] = sstLocation{r, i}
			}
		}
	}
	return loc
}

// validateEdit checks that e's edit applies to m (its fence is checked elsewhere). The
// errors wrap ErrInvalidEdit.
func validateEdit(m *Manifest, e *ManifestLogEntry) error {
	switch e.Kind {
	case EntryClaimFence:
		if e.Epoch != m.NextEpoch {
			return fmt.Errorf("%w: claim of epoch %d, next epoch is %d", ErrInvalidEdit, e.Epoch, m.NextEpoch)
		}
		return nil
	case EntryAddSST:
		if e.SST == nil {
			return fmt.Errorf("%w: add-sst entry without an sst", ErrInvalidEdit)
		}
		if err := validateSST(e.SST); err != nil {
			return err
		}
		if e.SST.Level != 0 {
			return fmt.Errorf("%w: added sst %q has level %d, not 0", ErrInvalidEdit, e.SST.ID, e.SST.Level)
		}
		if m.LookupSST(e.SST.ID) != nil {
			return fmt.Errorf("%w: %w: %q", ErrInvalidEdit, ErrSSTExists, e.SST.ID)
		}
		return nil
	case EntryRemoveSSTs:
		if len(e.RemovedSSTs) == 0 {
			return fmt.Errorf("%w: removal of no ssts", ErrInvalidEdit)
		}
		seen := make(map[string]struct{}, len(e.RemovedSSTs))
		for _, id := range e.RemovedSSTs {
			if _, dup := seen[id]; dup {
				return fmt.Errorf("%w: sst %q removed twice", ErrInvalidEdit, id)
			}
			seen[id] = struct{}{}
		}
		loc := locate(m, seen)
		for _, id := range e.RemovedSSTs {
			if _, ok := loc[id]; !ok {
				return fmt.Errorf("%w: %w: %q", ErrInvalidEdit, ErrSSTNotFound, id)
			}
		}
		return nil
	case EntryCompaction:
		if e.Compaction == nil {
			return fmt.Errorf("%w: compaction entry without a payload", ErrInvalidEdit)
		}
		return validateCompaction(m, e.Compaction)
	}
	return fmt.Errorf("%w: unknown entry kind %d", ErrInvalidEdit, e.Kind)
}

func validateCompaction(m *Manifest, c *CompactionLogPayload) error {
	if c.isEmpty() {
		return fmt.Errorf("%w: empty compaction", ErrInvalidEdit)
	}
	ids := make(map[string]struct{}, len(c.RemoveL0SSTs)+len(c.DeleteSSTs))
	for _, id := range c.RemoveL0SSTs {
		ids[id] = struct{}{}
	}
	for _, id := range c.DeleteSSTs {
		ids[id] = struct{}{}
	}
	if c.OutputRun != nil {
		for _, s := range c.OutputRun.SSTs {
			ids[s.ID] = struct{}{}
		}
	}
	loc := locate(m, ids)
	removed := map[string]struct{}{}
	remove := func(id, what string) error {
		if _, dup := removed[id]; dup {
			return fmt.Errorf("%w: sst %q removed twice", ErrInvalidEdit, id)
		}
		removed[id] = struct{}{}
		if _, ok := loc[id]; !ok {
			return fmt.Errorf("%w: %w: %s %q", ErrInvalidEdit, ErrSSTNotFound, what, id)
		}
		return nil
	}
	// L0 inputs: the oldest len(RemoveL0SSTs) SSTs of L0.
	for _, id := range c.RemoveL0SSTs {
		if err := remove(id, "L0 input"); err != nil {
			return err
		}
		if l := loc[id]; l.run != -1 {
			return fmt.Errorf("%w: L0 input %q is not in L0", ErrInvalidEdit, id)
		} else if l.index < len(m.L0SSTs)-len(c.RemoveL0SSTs) {
			return fmt.Errorf("%w: L0 inputs are not the oldest L0 SSTs (%q is newer)", ErrInvalidEdit, id)
		}
	}
	// Run inputs: consecutive runs; the newest ones if L0 is an input too.
	first, last := -1, -1
	for i, id := range c.RemoveSortedRuns {
		if slices.Contains(c.RemoveSortedRuns[:i], id) {
			return fmt.Errorf("%w: run %d removed twice", ErrInvalidEdit, id)
		}
		pos := slices.IndexFunc(m.SortedRuns, func(r SortedRun) bool { return r.ID == id })
		if pos < 0 {
			return fmt.Errorf("%w: %w: run %d", ErrInvalidEdit, ErrSSTNotFound, id)
		}
		if first < 0 || pos < first {
			first = pos
		}
		last = max(last, pos)
		for _, s := range m.SortedRuns[pos].SSTs {
			removed[s.ID] = struct{}{}
		}
	}
	if first >= 0 {
		if last-first+1 != len(c.RemoveSortedRuns) {
			return fmt.Errorf("%w: removed runs %v are not consecutive", ErrInvalidEdit, c.RemoveSortedRuns)
		}
		if len(c.RemoveL0SSTs) > 0 && first != 0 {
			return fmt.Errorf("%w: with L0 inputs, the removed runs must be the newest", ErrInvalidEdit)
		}
	}
	for _, id := range c.DeleteSSTs {
		if err := remove(id, "deleted sst"); err != nil {
			return err
		}
	}
	if o := c.OutputRun; o != nil {
		if len(c.RemoveL0SSTs) == 0 && len(c.RemoveSortedRuns) == 0 {
			return fmt.Errorf("%w: output run %d without L0 or run inputs", ErrInvalidEdit, o.ID)
		}
		if err := validateRun(o); err != nil {
			return err
		}
		if !slices.Contains(c.RemoveSortedRuns, o.ID) && o.ID < m.NextSortedRunID {
			return fmt.Errorf("%w: output run id %d is in use or was used (next id %d)", ErrInvalidEdit, o.ID, m.NextSortedRunID)
		}
		for _, s := range o.SSTs {
			if _, in := loc[s.ID]; in {
				if _, gone := removed[s.ID]; !gone {
					return fmt.Errorf("%w: %w: output sst %q", ErrInvalidEdit, ErrSSTExists, s.ID)
				}
			}
		}
	}
	return nil
}

// applyEdit returns m after e's edit (validated). m is not modified: changed slices are
// rebuilt, unchanged runs are shared.
func applyEdit(m *Manifest, e *ManifestLogEntry) *Manifest {
	n := m.shallowCopy()
	switch e.Kind {
	case EntryClaimFence:
		f := e.Fence()
		if e.Role == RoleWriter {
			if prev := m.WriterFence; prev != nil {
				n.WriterHistory = appendTenure(m.WriterHistory, WriterTenure{Epoch: prev.Epoch, EndSeq: m.MaxSeqNum()})
			}
			n.WriterFence = f
		} else {
			n.CompactorFence = f
		}
		n.NextEpoch = e.Epoch + 1
	case EntryAddSST:
		l0 := make([]SSTMeta, 0, len(m.L0SSTs)+1)
		l0 = append(l0, *e.SST)
		n.L0SSTs = append(l0, m.L0SSTs...)
	case EntryRemoveSSTs:
		removeSSTs(n, toSet(e.RemovedSSTs), nil, nil)
	case EntryCompaction:
		c := e.Compaction
		drop := toSet(c.RemoveL0SSTs)
		for _, id := range c.DeleteSSTs {
			drop[id] = struct{}{}
		}
		removeSSTs(n, drop, c.RemoveSortedRuns, c.OutputRun)
		if c.OutputRun != nil && c.OutputRun.ID >= n.NextSortedRunID {
			n.NextSortedRunID = c.OutputRun.ID + 1
		}
	}
	return n
}

// appendTenure returns history with t added, keeping the newest MaxWriterHistory; history
// is not modified (manifests share it).
func appendTenure(history []WriterTenure, t WriterTenure) []WriterTenure {
	keep := history[max(0, len(history)-(MaxWriterHistory-1)):]
	out := make([]WriterTenure, 0, len(keep)+1)
	return append(append(out, keep...), t)
}

func toSet(ids []string) map[string]struct{} {
	s := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// removeSSTs drops the SSTs in drop from L0 and the runs, and the runs in dropRuns, and
// puts output (if any) where the first dropped run was, or at the front.
func removeSSTs(n *Manifest, drop map[string]struct{}, dropRuns []uint32, output *SortedRun) {
	if len(drop) > 0 {
		l0 := make([]SSTMeta, 0, len(n.L0SSTs))
		for _, s := range n.L0SSTs {
			if _, gone := drop[s.ID]; !gone {
				l0 = append(l0, s)
			}
		}
		if len(l0) == 0 {
			l0 = nil
		}
		n.L0SSTs = l0
	}
	runs := make([]SortedRun, 0, len(n.SortedRuns)+1)
	placed := output == nil
	for _, r := range n.SortedRuns {
		if slices.Contains(dropRuns, r.ID) {
			if !placed {
				runs = append(runs, *output)
				placed = true
			}
			continue
		}
		if len(drop) > 0 && slices.ContainsFunc(r.SSTs, func(s SSTMeta) bool { _, gone := drop[s.ID]; return gone }) {
			kept := make([]SSTMeta, 0, len(r.SSTs))
			for _, s := range r.SSTs {
				if _, gone := drop[s.ID]; !gone {
					kept = append(kept, s)
				}
			}
			if len(kept) == 0 {
				continue
			}
			r = SortedRun{ID: r.ID, SSTs: kept}
		}
		runs = append(runs, r)
	}
	if !placed {
		runs = append([]SortedRun{*output}, runs...)
	}
	if len(runs) == 0 {
		runs = nil
	}
	n.SortedRuns = runs
}
