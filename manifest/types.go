package manifest

import (
	"bytes"
	"slices"
	"time"
)

// CurrentVersion is the Manifest.Version of manifests this package builds: the version of
// the manifest's data model (not of its byte encoding, which carries its own version).
const CurrentVersion = 1

// Manifest is the state of the LSM tree as of one position of the manifest log: which SSTs
// exist, how they are arranged, and who holds the writer and compactor fences.
//
// Order matters and is part of the contract:
//
//   - L0SSTs is ordered newest first: L0SSTs[0] is the most recently flushed SST. A point
//     read checks L0 in slice order and stops at the first SST holding the key.
//   - SortedRuns is ordered newest first too: every run holds data older than all of L0 and
//     newer than the runs after it. Within a run, SSTs are sorted by key and do not overlap.
//
// Manifests returned by a Store are the caller's (Replay) or share unmodified parts with
// the manifest they were derived from (ReplayFrom); treat them as read-only values and
// Clone before modifying one.
type Manifest struct {
	// Version is the version of the manifest data model: CurrentVersion.
	Version int
	// NextEpoch is the epoch the next fence claim (of either role) will carry. Epochs
	// start at 1 and never repeat, so a larger epoch is always the newer claim.
	NextEpoch uint64
	// LogSeq is the sequence number of the last log entry this manifest includes (0: none).
	LogSeq uint64
	// WriterFence is the current writer's claim, or nil if no writer ever claimed.
	WriterFence *FenceToken
	// CompactorFence is the current compactor's claim, or nil.
	CompactorFence *FenceToken
	// L0SSTs are the flushed, not yet compacted SSTs, newest first. They may overlap.
	L0SSTs []SSTMeta
	// SortedRuns are the compacted runs, newest first.
	SortedRuns []SortedRun
	// NextSortedRunID is the smallest run id never used yet.
	NextSortedRunID uint32
	// WriterHistory records how the most recent superseded writer epochs ended, oldest
	// first, at most MaxWriterHistory of them: one WriterTenure per writer claim that
	// replaced an earlier writer. It lets a writer tell, by epoch rather than by sequence
	// numbers, which of an old writer's writes were published (see WriterTenure).
	WriterHistory []WriterTenure

	// chain is the hash of log entry LogSeq (see entryHash): what the next entry must name
	// as its predecessor. Zero before the first entry.
	chain uint64
	// recent lists the hashes of the last entries up to LogSeq (its head is chain).
	recent *hashNode
}

// MaxWriterHistory bounds Manifest.WriterHistory: the tenures of older writer epochs are
// forgotten.
const MaxWriterHistory = 64

// WriterTenure records the end of one writer epoch: the manifest's largest sequence number
// at the moment a newer writer claimed the role. Every write the superseded writer
// published has a sequence number at or below EndSeq (its later appends are refused by the
// fence), and every write of a later writer has one above EndSeq (a writer starts after
// the manifest's largest). So a write of epoch Epoch with sequence number s reached the
// manifest if and only if s <= EndSeq.
type WriterTenure struct {
	// Epoch is the superseded writer's fence epoch.
	Epoch uint64
	// EndSeq is Manifest.MaxSeqNum when the next writer's claim was applied.
	EndSeq uint64
}

// WriterTenure returns the recorded end of writer epoch epoch, if the history holds it.
func (m *Manifest) WriterTenure(epoch uint64) (WriterTenure, bool) {
	for _, t := range m.WriterHistory {
		if t.Epoch == epoch {
			return t, true
		}
	}
	return WriterTenure{}, false
}

// SSTMeta describes one immutable SST object ("sst/<ID>.sst").
type SSTMeta struct {
	// ID names the SST; its object is "sst/<ID>.sst". IDs sort by creation.
	ID string
	// Epoch is the writer (or compactor) epoch the SST was produced under.
	Epoch uint64
	// SeqLo and SeqHi bound the sequence numbers of the SST's entries (inclusive).
	SeqLo, SeqHi uint64
	// MinKey and MaxKey are the smallest and largest user keys in the SST (inclusive).
	MinKey, MaxKey []byte
	// Size is the object's length in bytes.
	Size int64
	// Checksum is the SHA-256 of the whole object, as "sha256:<64 lowercase hex digits>".
	Checksum string
	// Signature, when non-nil, signs Checksum's digest (see SSTSignature).
	Signature *SSTSignature
	// Bloom describes the SST's filter block.
	Bloom BloomMeta
	// CreatedAt is when the SST was written (the producer's clock).
	CreatedAt time.Time
	// Level is 0 for L0 SSTs and 1 for SSTs of sorted runs.
	Level int
	// HasBlobRefs reports that some values of the SST live in separate blob objects.
	HasBlobRefs bool
	// EntryCount is the number of entries in the SST (0: unknown).
	EntryCount uint64
	// TombstoneCount is the number of deletion entries in the SST (0: none or unknown).
	TombstoneCount uint64
}

// BloomMeta describes an SST's bloom filter, so a reader can size caches and judge the
// filter before fetching it. The zero value means "no filter".
type BloomMeta struct {
	// BitsPerKey is the filter's budget in bits per key (0: no filter).
	BitsPerKey int
	// HashCount is the number of probes per key.
	HashCount int
	// Keys is the number of keys the filter was built from.
	Keys uint64
	// Size is the filter block's length in bytes.
	Size int64
}

// SortedRun is a sequence of SSTs sorted by key whose key ranges do not overlap, so a point
// read touches at most one of them.
type SortedRun struct {
	// ID identifies the run; ids are never reused.
	ID uint32
	// SSTs are ordered by MinKey; each SST's MaxKey is below the next one's MinKey.
	SSTs []SSTMeta
}

// SSTSignature is a signature of an SST's SHA-256 digest, made by an SSTHashSigner (the
// package sstsign provides ed25519).
type SSTSignature struct {
	// Algorithm names the signature scheme, e.g. "ed25519".
	Algorithm string
	// KeyID names the key that made the signature, so verifiers can hold several.
	KeyID string
	// Hash is the signed digest, in the form of SSTMeta.Checksum ("sha256:<hex>").
	Hash string
	// Signature is the signature bytes.
	Signature []byte
}

// FenceToken is a claim of the writer or compactor role. The holder of the largest epoch
// owns the role; holders of older epochs are fenced.
type FenceToken struct {
	// Epoch is the claim's epoch, unique across both roles.
	Epoch uint64
	// Owner is the claimer's self-chosen id (for operators; fencing uses only Epoch).
	Owner string
	// ClaimedAt is when the claim was made (the claimer's clock).
	ClaimedAt time.Time
}

// newManifest returns the state before the first log entry.
func newManifest() *Manifest {
	return &Manifest{Version: CurrentVersion, NextEpoch: 1, NextSortedRunID: 1}
}

// Clone returns a deep copy of m: nothing of the copy is shared with m.
func (m *Manifest) Clone() *Manifest {
	if m == nil {
		return nil
	}
	c := *m
	c.WriterFence = m.WriterFence.clone()
	c.CompactorFence = m.CompactorFence.clone()
	c.WriterHistory = slices.Clone(m.WriterHistory)
	c.L0SSTs = cloneSSTs(m.L0SSTs)
	if m.SortedRuns != nil {
		c.SortedRuns = make([]SortedRun, len(m.SortedRuns))
		for i, r := range m.SortedRuns {
			c.SortedRuns[i] = SortedRun{ID: r.ID, SSTs: cloneSSTs(r.SSTs)}
		}
	}
	return &c
}

// L0SSTCount returns the number of L0 SSTs.
func (m *Manifest) L0SSTCount() int { return len(m.L0SSTs) }

// SortedRunCount returns the number of sorted runs.
func (m *Manifest) SortedRunCount() int { return len(m.SortedRuns) }

// LookupSST returns the SST with the given id, in L0 or any sorted run, or nil. The result
// points into m: do not modify it. It scans every SST (no index is kept).
func (m *Manifest) LookupSST(id string) *SSTMeta {
	for s := range m.SSTs() {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// GetSortedRun returns the run with the given id, or nil. The result points into m.
func (m *Manifest) GetSortedRun(id uint32) *SortedRun {
	for i := range m.SortedRuns {
		if m.SortedRuns[i].ID == id {
			return &m.SortedRuns[i]
		}
	}
	return nil
}

// AllSSTIDs returns the ids of every SST: L0 newest first, then each run's in key order,
// runs newest first.
func (m *Manifest) AllSSTIDs() []string {
	ids := make([]string, 0, m.sstCount())
	for s := range m.SSTs() {
		ids = append(ids, s.ID)
	}
	return ids
}

// MaxSeqNum returns the largest SeqHi of all SSTs (0 if there are none): every mutation
// with a larger sequence number is not in the manifest yet.
func (m *Manifest) MaxSeqNum() uint64 {
	var hi uint64
	for s := range m.SSTs() {
		hi = max(hi, s.SeqHi)
	}
	return hi
}

// shallowCopy returns a copy of m's top-level fields; slices and fence tokens are shared.
// Apply functions build new slices instead of modifying shared ones.
func (m *Manifest) shallowCopy() *Manifest {
	c := *m
	return &c
}

func (f *FenceToken) clone() *FenceToken {
	if f == nil {
		return nil
	}
	c := *f
	return &c
}

// Clone returns a deep copy of s.
func (s SSTMeta) Clone() SSTMeta {
	s.MinKey = bytes.Clone(s.MinKey)
	s.MaxKey = bytes.Clone(s.MaxKey)
	if s.Signature != nil {
		sig := *s.Signature
		sig.Signature = bytes.Clone(sig.Signature)
		s.Signature = &sig
	}
	return s
}

func cloneSSTs(in []SSTMeta) []SSTMeta {
	if in == nil {
		return nil
	}
	out := make([]SSTMeta, len(in))
	for i := range in {
		out[i] = in[i].Clone()
	}
	return out
}

// equalSST reports whether a and b describe the same SST with the same metadata.
func equalSST(a, b *SSTMeta) bool {
	if a.ID != b.ID || a.Epoch != b.Epoch || a.SeqLo != b.SeqLo || a.SeqHi != b.SeqHi ||
		!bytes.Equal(a.MinKey, b.MinKey) || !bytes.Equal(a.MaxKey, b.MaxKey) || a.Size != b.Size ||
		a.Checksum != b.Checksum || a.Bloom != b.Bloom || !a.CreatedAt.Equal(b.CreatedAt) ||
		a.Level != b.Level || a.HasBlobRefs != b.HasBlobRefs || a.EntryCount != b.EntryCount ||
		a.TombstoneCount != b.TombstoneCount {
		return false
	}
	if (a.Signature == nil) != (b.Signature == nil) {
		return false
	}
	if a.Signature != nil {
		x, y := a.Signature, b.Signature
		return x.Algorithm == y.Algorithm && x.KeyID == y.KeyID && x.Hash == y.Hash &&
			bytes.Equal(x.Signature, y.Signature)
	}
	return true
}

// Equal reports whether m and o describe the same state at the same log position: the same
// fields, SSTs in the same order with the same metadata (times compared with time.Equal).
func (m *Manifest) Equal(o *Manifest) bool {
	if m == nil || o == nil {
		return m == o
	}
	if m.Version != o.Version || m.NextEpoch != o.NextEpoch || m.LogSeq != o.LogSeq ||
		m.NextSortedRunID != o.NextSortedRunID || m.chain != o.chain ||
		!equalFence(m.WriterFence, o.WriterFence) || !equalFence(m.CompactorFence, o.CompactorFence) ||
		len(m.L0SSTs) != len(o.L0SSTs) || len(m.SortedRuns) != len(o.SortedRuns) ||
		!slices.Equal(m.WriterHistory, o.WriterHistory) {
		return false
	}
	for i := range m.L0SSTs {
		if !equalSST(&m.L0SSTs[i], &o.L0SSTs[i]) {
			return false
		}
	}
	for i := range m.SortedRuns {
		a, b := &m.SortedRuns[i], &o.SortedRuns[i]
		if a.ID != b.ID || !slices.EqualFunc(a.SSTs, b.SSTs, func(x, y SSTMeta) bool { return equalSST(&x, &y) }) {
			return false
		}
	}
	return true
}

func equalFence(a, b *FenceToken) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Epoch == b.Epoch && a.Owner == b.Owner && a.ClaimedAt.Equal(b.ClaimedAt)
}

// recentHashes is how many entry hashes a manifest remembers (and a snapshot records):
// enough to tell, after an append was overtaken by snapshots, whether the entry in its
// slot is the log's.
const recentHashes = 1024

// hashNode is one link of an immutable list of the hashes of the entries up to a
// manifest's position, newest first. Manifests derived from one another share their lists.
type hashNode struct {
	hash  uint64
	prev  *hashNode
	depth int // links in the list from here
}

// pushHash returns the list head extended by h. Lists are cut back to recentHashes links
// once they reach twice that, so each step costs O(1) amortized.
func pushHash(head *hashNode, h uint64) *hashNode {
	n := &hashNode{hash: h, prev: head, depth: 1}
	if head != nil {
		n.depth = head.depth + 1
	}
	if n.depth > 2*recentHashes {
		n = hashList(n.lastHashes(recentHashes))
	}
	return n
}

// hashList builds a list from hashes, oldest first.
func hashList(hashes []uint64) *hashNode {
	var head *hashNode
	for i, h := range hashes {
		head = &hashNode{hash: h, prev: head, depth: i + 1}
	}
	return head
}

// lastHashes returns up to n hashes of the list, oldest first.
func (h *hashNode) lastHashes(n int) []uint64 {
	if h == nil {
		return nil
	}
	n = min(n, h.depth)
	out := make([]uint64, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = h.hash
		h = h.prev
	}
	return out
}

// entryHashAt returns the hash of log entry seq if m remembers it.
func (m *Manifest) entryHashAt(seq uint64) (uint64, bool) {
	h := m.recent
	if seq == 0 || seq > m.LogSeq || h == nil || m.LogSeq-seq >= uint64(h.depth) {
		return 0, false
	}
	for range m.LogSeq - seq {
		h = h.prev
	}
	return h.hash, true
}
