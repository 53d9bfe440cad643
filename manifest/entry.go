package manifest

import (
	"fmt"
	"strconv"
	"time"
)

// Seq is the sequence number of a manifest log entry. Entry 1 is the first; a snapshot
// with Seq N holds the state after entries 1..N.
type Seq uint64

// String returns the number in decimal.
func (s Seq) String() string { return strconv.FormatUint(uint64(s), 10) }

// Role is a fenced role: the writer or the compactor. Its values are written in log entries
// and are frozen.
type Role uint8

const (
	// RoleWriter is the single writer: it adds flushed SSTs to L0.
	RoleWriter Role = 1
	// RoleCompactor is the single compactor (merge or retention): it replaces and removes SSTs.
	RoleCompactor Role = 2
)

// String returns "writer" or "compactor".
func (r Role) String() string {
	switch r {
	case RoleWriter:
		return "writer"
	case RoleCompactor:
		return "compactor"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

func (r Role) valid() bool { return r == RoleWriter || r == RoleCompactor }

// EntryKind says what a log entry does. Its values are written in log entries and are
// frozen: add kinds, never renumber.
type EntryKind uint8

const (
	// EntryClaimFence claims the entry's Role with a new epoch (Fence).
	EntryClaimFence EntryKind = 1
	// EntryAddSST adds one SST (SST) at the front of L0. A writer entry.
	EntryAddSST EntryKind = 2
	// EntryRemoveSSTs removes SSTs (RemovedSSTs) from L0 or any run.
	EntryRemoveSSTs EntryKind = 3
	// EntryCompaction removes inputs and adds outputs atomically (Compaction). A compactor
	// entry.
	EntryCompaction EntryKind = 4
)

// String returns a short lowercase name.
func (k EntryKind) String() string {
	switch k {
	case EntryClaimFence:
		return "claim"
	case EntryAddSST:
		return "add-sst"
	case EntryRemoveSSTs:
		return "remove-ssts"
	case EntryCompaction:
		return "compaction"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ManifestLogEntry is one decoded entry of the manifest log ("manifest/log/<Seq>").
//
// Every entry is made under a fence: Role and Epoch name the fence the appender held (for
// a claim, the fence being claimed). Replay applies an entry only if its epoch is still the
// role's current one; otherwise the entry is a no-op (see docs/format.md ("Manifest log and snapshots"): such an
// entry can only exist if a fenced appender bypassed the protocol, and was never
// acknowledged).
type ManifestLogEntry struct {
	// Seq is the entry's position in the log.
	Seq Seq
	// PrevHash is the hash of entry Seq-1 (0 for entry 1): the log is a hash chain, so a
	// reader notices an entry that does not follow the one it read before.
	PrevHash uint64
	// Kind says which payload field is set.
	Kind EntryKind
	// Role is the fence the entry was appended under (for EntryClaimFence, the claimed role).
	Role Role
	// Epoch is the appender's fence epoch (for EntryClaimFence, the new epoch).
	Epoch uint64
	// Owner is the appender's owner id.
	Owner string
	// Timestamp is when the entry was made (the appender's clock).
	Timestamp time.Time

	// SST is the added SST (EntryAddSST).
	SST *SSTMeta
	// RemovedSSTs are the ids removed (EntryRemoveSSTs).
	RemovedSSTs []string
	// Compaction is the compaction's edit (EntryCompaction).
	Compaction *CompactionLogPayload
}

// Fence returns the fence token an EntryClaimFence entry claims, or nil for other kinds.
func (e *ManifestLogEntry) Fence() *FenceToken {
	if e.Kind != EntryClaimFence {
		return nil
	}
	return &FenceToken{Epoch: e.Epoch, Owner: e.Owner, ClaimedAt: e.Timestamp}
}

// String summarises the entry on one line.
func (e *ManifestLogEntry) String() string {
	s := fmt.Sprintf("#%d %s %s@%d", e.Seq, e.Kind, e.Role, e.Epoch)
	switch e.Kind {
	case EntryClaimFence:
		s += " owner=" + e.Owner
	case EntryAddSST:
		if e.SST != nil {
			s += " sst=" + e.SST.ID
		}
	case EntryRemoveSSTs:
		s += fmt.Sprintf(" ssts=%v", e.RemovedSSTs)
	case EntryCompaction:
		if c := e.Compaction; c != nil {
			s += fmt.Sprintf(" l0=%v runs=%v delete=%v", c.RemoveL0SSTs, c.RemoveSortedRuns, c.DeleteSSTs)
			if c.OutputRun != nil {
				s += fmt.Sprintf(" out=run%d(%d ssts)", c.OutputRun.ID, len(c.OutputRun.SSTs))
			}
		}
	}
	return s
}

// CompactionLogPayload is one compaction's edit of the manifest: it removes its inputs and
// adds its output in a single log entry, so no reader ever sees both or neither.
//
// Inputs must all be present when the entry is appended (otherwise the append fails with
// ErrSSTNotFound or ErrInvalidEdit). The output run's position keeps the newest-first order
// of the runs:
//
//   - L0 → new sorted run: RemoveL0SSTs lists the oldest L0 SSTs (a suffix of L0), and
//     OutputRun (a new id) becomes the newest run.
//   - merge runs X, Y → run Z: RemoveSortedRuns lists consecutive runs, and OutputRun takes
//     the place of the newest of them. If OutputRun.ID is one of the removed runs' ids, the
//     run is replaced in place under its old id.
//   - L0 plus the newest runs → run: both lists; the removed runs must be the newest ones.
//   - retention: DeleteSSTs lists SSTs dropped wherever they are (L0 or any run); a run left
//     empty disappears. No output.
type CompactionLogPayload struct {
	// RemoveL0SSTs are the ids of consumed L0 SSTs: the oldest ones of L0.
	RemoveL0SSTs []string
	// RemoveSortedRuns are the ids of runs consumed whole, consecutive in run order.
	RemoveSortedRuns []uint32
	// DeleteSSTs are ids of SSTs removed without replacement (retention), from L0 or runs.
	DeleteSSTs []string
	// OutputRun is the run produced, or nil. Its ID is a removed run's id or at least the
	// manifest's NextSortedRunID; its SSTs are sorted by key and do not overlap.
	OutputRun *SortedRun
}

// isEmpty reports whether the payload changes nothing.
func (p *CompactionLogPayload) isEmpty() bool {
	return len(p.RemoveL0SSTs) == 0 && len(p.RemoveSortedRuns) == 0 && len(p.DeleteSSTs) == 0 && p.OutputRun == nil
}
