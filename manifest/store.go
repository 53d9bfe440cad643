package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// Store runs the manifest protocol (see the package doc and docs/format.md ("Manifest log and snapshots")) over a
// Storage: it replays the log, appends entries under a fence, writes snapshots and prunes.
//
// A Store holds the fences it claimed: the writer's Store holds the writer fence, a
// compactor's Store the compactor fence (one Store may hold both). Each append is made
// under one of them:
//
//   - AppendAddSSTableWithFence: the writer fence.
//   - AppendCompactionWithFence: the compactor fence.
//   - AppendRemoveSSTablesWithFence: the compactor fence if this Store holds it, else the
//     writer fence (so a DB without a compactor can still drop SSTs as its writer).
//
// A Store is safe for concurrent use. Appends, claims and fence checks of one Store run one
// at a time; Replay and ReplayFrom run concurrently with them and with each other.
type Store struct {
	storage  Storage
	opts     StoreOptions
	counters storeCounters

	// appendMu serializes the operations that write (and fence checks).
	appendMu sync.Mutex

	mu struct {
		sync.Mutex
		// state is the newest verified manifest this Store knows (nil: none yet). It is
		// never modified in place and never handed out (callers get clones).
		state *Manifest
		// held and fenced are indexed by Role.
		held   [3]*FenceToken
		fenced [3]bool
		// mark is the most recent listing of the snapshots.
		mark listMark
		// prunedThrough is the snapshot position of this Store's last complete prune.
		prunedThrough Seq
		// anchor says since when the log is known to have ended at some state; ownSnap is
		// the newest snapshot this Store wrote. See confirm.go.
		anchor  anchor
		ownSnap Seq
	}
}

// listMark records a listing of the snapshots: at is the local time just before the list
// request, newest the largest snapshot position it returned.
type listMark struct {
	at     time.Time
	newest Seq
	valid  bool
}

// NewStore returns a Store over the bucket, with default options: entries and snapshots
// are kept by NewBlobStorage(store).
func NewStore(store *blobstore.Store) *Store {
	return NewStoreWithStorage(NewBlobStorage(store))
}

// NewStoreWithStorage returns a Store over storage with default options. A nil storage
// makes every call fail with ErrInvalidOptions.
func NewStoreWithStorage(storage Storage) *Store {
	if storage == nil {
		storage = errStorage{fmt.Errorf("%w: nil storage", ErrInvalidOptions)}
	}
	s, _ := NewStoreWithOptions(storage, StoreOptions{}) // the defaults are valid
	return s
}

// NewStoreWithOptions returns a Store over storage. Options pass through EnsureDefaults
// and Validate.
func NewStoreWithOptions(storage Storage, opts StoreOptions) (*Store, error) {
	if storage == nil {
		return nil, fmt.Errorf("%w: nil storage", ErrInvalidOptions)
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Store{storage: storage, opts: opts}, nil
}

// Storage returns the Storage the Store runs on.
func (s *Store) Storage() Storage { return s.storage }

// Current returns a copy of the newest manifest this Store has seen (by replay, its own
// appends and claims), without any request; nil before the first.
func (s *Store) Current() *Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.state.Clone()
}

// WriterFence returns the writer fence this Store claimed, or nil.
func (s *Store) WriterFence() *FenceToken { return s.heldFence(RoleWriter).clone() }

// CompactorFence returns the compactor fence this Store claimed, or nil.
func (s *Store) CompactorFence() *FenceToken { return s.heldFence(RoleCompactor).clone() }

func (s *Store) heldFence(role Role) *FenceToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.held[role]
}

// setState makes m the Store's state if it is newer.
func (s *Store) setState(m *Manifest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.state == nil || m.LogSeq >= s.mu.state.LogSeq {
		s.mu.state = m
	}
}

func (s *Store) state() *Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.state
}

func (s *Store) setMark(m listMark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.mark.valid || m.at.After(s.mu.mark.at) {
		s.mu.mark = m
	}
}

func (s *Store) mark() listMark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.mark
}

// setFenced records that role's fence was superseded and returns ErrFenced.
func (s *Store) setFenced(role Role, tok *FenceToken, cur *FenceToken) error {
	s.counters.fenced.Add(1)
	s.mu.Lock()
	if s.mu.held[role] == tok {
		s.mu.fenced[role] = true
	}
	s.mu.Unlock()
	if cur == nil {
		return fmt.Errorf("%w: %s epoch %d, no %s fence in the manifest", ErrFenced, role, tok.Epoch, role)
	}
	return fmt.Errorf("%w: %s epoch %d superseded by epoch %d (owner %q)", ErrFenced, role, tok.Epoch, cur.Epoch, cur.Owner)
}

// ClaimWriter claims the writer role for ownerID with a new epoch. Every later append of
// the previous writer fails with ErrFenced. If another claim of the writer role lands
// first, it fails with ErrFenceConflict.
func (s *Store) ClaimWriter(ctx context.Context, ownerID string) (*FenceToken, error) {
	e, err := s.claim(ctx, RoleWriter, ownerID)
	if err != nil {
		return nil, err
	}
	return e.Fence(), nil
}

// ClaimCompactor claims the compactor role, like ClaimWriter.
func (s *Store) ClaimCompactor(ctx context.Context, ownerID string) (*FenceToken, error) {
	e, err := s.claim(ctx, RoleCompactor, ownerID)
	if err != nil {
		return nil, err
	}
	return e.Fence(), nil
}

// CheckWriterFence reports whether this Store's writer fence is still current: nil,
// ErrFenced, or ErrNotClaimed. It reads the log's tail (one GET when nothing is new). The
// answer is advisory, as any answer about a lease: appends check the fence themselves.
func (s *Store) CheckWriterFence(ctx context.Context) error {
	return s.checkFence(ctx, RoleWriter)
}

// CheckCompactorFence is CheckWriterFence for the compactor fence.
func (s *Store) CheckCompactorFence(ctx context.Context) error {
	return s.checkFence(ctx, RoleCompactor)
}

func (s *Store) checkFence(ctx context.Context, role Role) error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	tok, err := s.usableFence(role)
	if err != nil {
		return err
	}
	m, err := s.catchUp(ctx)
	if err != nil {
		return err
	}
	if cur := fenceOf(m, role); cur == nil || cur.Epoch != tok.Epoch {
		return s.setFenced(role, tok, cur)
	}
	return nil
}

// usableFence returns the held fence of role, or ErrNotClaimed or ErrFenced.
func (s *Store) usableFence(role Role) (*FenceToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.mu.held[role]
	if tok == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotClaimed, role)
	}
	if s.mu.fenced[role] {
		return nil, fmt.Errorf("%w: %s epoch %d", ErrFenced, role, tok.Epoch)
	}
	return tok, nil
}

// catchUp returns the Store's state advanced to the end of the log (loading it first if
// the Store has none).
func (s *Store) catchUp(ctx context.Context) (*Manifest, error) {
	m := s.state()
	if m == nil {
		return s.load(ctx)
	}
	m, mark, at, err := s.readForward(ctx, m, s.mark(), false, nil, nil)
	if err != nil {
		return nil, err
	}
	s.setMark(mark)
	s.setState(m)
	s.setAnchor(m, at)
	return m, nil
}

// AppendAddSSTableWithFence appends an entry adding sst at the front of L0, under the
// writer fence. sst.Level must be 0 and its id new (else ErrSSTExists). On success the
// entry is durable and part of every later replay.
func (s *Store) AppendAddSSTableWithFence(ctx context.Context, sst SSTMeta) (*ManifestLogEntry, error) {
	return s.append(ctx, RoleWriter, func(e *ManifestLogEntry) {
		e.Kind = EntryAddSST
		e.SST = &sst
	})
}

// AppendRemoveSSTablesWithFence appends an entry removing the SSTs with the given ids from
// L0 or any run (a run left empty disappears), under the compactor fence if this Store
// holds one, else under the writer fence. Every id must be present (else ErrSSTNotFound).
func (s *Store) AppendRemoveSSTablesWithFence(ctx context.Context, ids []string) (*ManifestLogEntry, error) {
	role := RoleWriter
	if s.heldFence(RoleCompactor) != nil {
		role = RoleCompactor
	}
	return s.append(ctx, role, func(e *ManifestLogEntry) {
		e.Kind = EntryRemoveSSTs
		e.RemovedSSTs = ids
	})
}

// AppendCompactionWithFence appends a compaction entry, under the compactor fence: its
// inputs are removed and its output added atomically (see CompactionLogPayload for the
// rules the payload must follow).
func (s *Store) AppendCompactionWithFence(ctx context.Context, c CompactionLogPayload) (*ManifestLogEntry, error) {
	return s.append(ctx, RoleCompactor, func(e *ManifestLogEntry) {
		e.Kind = EntryCompaction
		e.Compaction = &c
	})
}

// append runs the append protocol: check the fence on the newest known state, validate,
// create the next slot put-if-absent, and on a lost race catch up and start over.
func (s *Store) append(ctx context.Context, role Role, fill func(e *ManifestLogEntry)) (*ManifestLogEntry, error) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	tok, err := s.usableFence(role)
	if err != nil {
		return nil, err
	}
	m := s.state()
	fresh := m == nil // whether m was read from the log during this call
	if m == nil {
		if m, err = s.load(ctx); err != nil {
			return nil, err
		}
	}
	for attempt := 0; attempt < s.opts.MaxAppendAttempts; attempt++ {
		if cur := fenceOf(m, role); cur == nil || cur.Epoch != tok.Epoch {
			return nil, s.setFenced(role, tok, cur)
		}
		e := &ManifestLogEntry{
			Seq: Seq(m.LogSeq + 1), PrevHash: m.chain, Role: role, Epoch: tok.Epoch,
			Owner: tok.Owner, Timestamp: s.opts.Clock(),
		}
		fill(e)
		if err := validateEdit(m, e); err != nil {
			if fresh {
				return nil, err
			}
			// The Store's view may be behind (another appender's entries): judge the
			// edit on the end of the log.
			if m, err = s.catchUpFrom(ctx, m); err != nil {
				return nil, err
			}
			fresh = true
			continue
		}
		res, err := s.tryAppend(ctx, m, encodeEntry(e))
		if err != nil {
			if errors.Is(err, ErrUncertain) {
				s.counters.uncertain.Add(1)
			}
			return nil, err
		}
		if res.entry != nil {
			s.counters.appends.Add(1)
			return res.entry, nil
		}
		m, fresh = res.next, true
		if res.uncertain != nil {
			if cur := fenceOf(m, role); cur == nil || cur.Epoch != tok.Epoch {
				return nil, fmt.Errorf("%w (and whether entry %d, made before, is in the log is unknown)",
					s.setFenced(role, tok, cur), res.uncertain.Seq)
			}
			if applied(m, res.uncertain) {
				s.counters.appends.Add(1)
				return res.uncertain, nil
			}
			s.counters.uncertain.Add(1)
			return nil, fmt.Errorf("%w: entry %d landed, but the log was snapshotted and pruned past it before it could be confirmed",
				ErrUncertain, res.uncertain.Seq)
		}
	}
	return nil, fmt.Errorf("%w: append lost the race for a log slot %d times", ErrConflict, s.opts.MaxAppendAttempts)
}

// claim runs the append protocol for a fence claim and returns the claim's entry; losing
// to a claim of the same role is ErrFenceConflict.
func (s *Store) claim(ctx context.Context, role Role, owner string) (*ManifestLogEntry, error) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	m, err := s.catchUp(ctx)
	if err != nil {
		return nil, err
	}
	base := fenceOf(m, role)
	for attempt := 0; attempt < s.opts.MaxAppendAttempts; attempt++ {
		if cur := fenceOf(m, role); !sameEpoch(cur, base) {
			return nil, fmt.Errorf("%w: %s claimed by %q (epoch %d) concurrently", ErrFenceConflict, role, cur.Owner, cur.Epoch)
		}
		e := &ManifestLogEntry{
			Seq: Seq(m.LogSeq + 1), PrevHash: m.chain, Kind: EntryClaimFence, Role: role,
			Epoch: m.NextEpoch, Owner: owner, Timestamp: s.opts.Clock(),
		}
		res, err := s.tryAppend(ctx, m, encodeEntry(e))
		if err != nil {
			if errors.Is(err, ErrUncertain) {
				s.counters.uncertain.Add(1)
			}
			return nil, err
		}
		if res.uncertain != nil && equalFence(fenceOf(res.next, role), res.uncertain.Fence()) {
			res.entry = res.uncertain // the current fence is the one we claimed
		}
		if res.entry != nil {
			s.counters.appends.Add(1)
			s.counters.claims.Add(1)
			s.mu.Lock()
			s.mu.held[role] = res.entry.Fence()
			s.mu.fenced[role] = false
			s.mu.Unlock()
			return res.entry, nil
		}
		m = res.next
	}
	return nil, fmt.Errorf("%w: claim lost the race for a log slot %d times", ErrConflict, s.opts.MaxAppendAttempts)
}

func sameEpoch(a, b *FenceToken) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Epoch == b.Epoch
}

// appendResult is the outcome of one attempt: entry is set if it was appended (and is
// part of the log), else next is the newer state to retry on. uncertain is set if the
// entry landed but whether it is part of the log could not be established.
type appendResult struct {
	entry     *ManifestLogEntry
	next      *Manifest
	uncertain *ManifestLogEntry
}

// tryAppend tries to create the entry data (for position m.LogSeq+1) and, if it landed,
// confirms that it is part of the log: that its slot had not been pruned (in which case
// the entry is invisible and the attempt counts as lost). On success it makes the new
// state current, and snapshots and prunes if due.
func (s *Store) tryAppend(ctx context.Context, m *Manifest, data []byte) (appendResult, error) {
	seq := Seq(m.LogSeq + 1)
	key := LogEntryKey(seq)
	e, err := DecodeLogEntry(key, data)
	if err != nil {
		return appendResult{}, err
	}
	t0 := s.opts.Clock() // before the create: a lower bound of when it landed
	landed, err := s.create(ctx, seq, data)
	if err != nil {
		return appendResult{}, err
	}
	if !landed {
		s.counters.lostRaces.Add(1)
		next, err := s.catchUpFrom(ctx, m)
		if err != nil {
			return appendResult{}, err
		}
		// Another entry held the slot when we looked. But ours may have landed first and
		// been pruned and replaced by a stray since: the verified log knows.
		if h, ok := next.entryHashAt(uint64(seq)); ok && h == entryHash(data) {
			return appendResult{entry: e}, nil
		}
		return appendResult{next: next}, nil
	}
	// The entry is in its slot. It is part of the log if the slot was never pruned before
	// it landed. Without a request if the log was known to end at m recently enough that
	// no prune can have reached the slot since (confirm.go argues it)...
	if s.confirmedByAnchor(m, seq) {
		if _, err := s.acknowledge(key, m, data, t0); err != nil {
			return appendResult{}, err
		}
		s.counters.fastConfirms.Add(1)
		return appendResult{entry: e}, nil
	}
	// ...else by listing the snapshots. Slots are pruned only below a snapshot, and the
	// newest snapshot position only grows: if no snapshot lies beyond the slot now, none
	// did then.
	t := s.opts.Clock()
	snaps, err := s.storage.ListSnapshots(ctx)
	if err != nil {
		return appendResult{}, fmt.Errorf("%w: entry %d landed; confirming it: %w", ErrUncertain, seq, err)
	}
	newest := newestSnapshot(snaps)
	if newest > seq {
		// Either the entry landed first and others appended and snapshotted past it since,
		// or it landed in a pruned slot and is invisible. The log's hashes tell.
		next, err := s.load(ctx)
		if err != nil {
			return appendResult{}, err
		}
		ours, conclusive, err := s.isLogEntry(ctx, seq, entryHash(data), next)
		if err != nil {
			return appendResult{}, err
		}
		switch {
		case ours:
			return appendResult{entry: e}, nil
		case conclusive:
			s.counters.strays.Add(1)
			s.opts.Logger.Warn("manifest: appended entry landed in a pruned log slot; it is invisible, retrying",
				"seq", uint64(seq), "snapshot", uint64(newest))
			return appendResult{next: next}, nil
		}
		return appendResult{next: next, uncertain: e}, nil
	}
	s.setMark(listMark{at: t, newest: newest, valid: true})
	next, err := s.acknowledge(key, m, data, t0)
	if err != nil {
		return appendResult{}, err
	}
	if s.opts.SnapshotEvery > 0 && uint64(seq-newest) >= uint64(s.opts.SnapshotEvery) {
		s.autoSnapshot(ctx, next, snaps)
	}
	return appendResult{entry: e}, nil
}

// acknowledge makes the state after the confirmed entry data (at m.LogSeq+1) current, with
// the anchor t0: the entry landed after t0, and any later entry must name its hash.
func (s *Store) acknowledge(key string, m *Manifest, data []byte, t0 time.Time) (*Manifest, error) {
	// The state gets its own decoded copy: the caller may modify the returned entry.
	own, err := DecodeLogEntry(key, bytes.Clone(data))
	if err != nil {
		return nil, err
	}
	next, err := step(key, m, own, entryHash(data))
	if err != nil {
		return nil, err
	}
	s.setState(next)
	s.setAnchor(next, t0)
	return next, nil
}

// create writes data into slot seq and reports whether it is there now: true if our write
// landed (even if its reply was lost), false if another entry holds the slot.
func (s *Store) create(ctx context.Context, seq Seq, data []byte) (bool, error) {
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		err := s.storage.CreateLogEntry(ctx, seq, data)
		if err == nil {
			return true, nil
		}
		if ctx.Err() != nil {
			if errors.Is(err, ErrConflict) {
				return false, err
			}
			return false, fmt.Errorf("%w: entry %d: %w", ErrUncertain, seq, err)
		}
		// A conflict, or an unknown outcome: look at the slot.
		got, rerr := s.storage.ReadLogEntry(ctx, seq)
		switch {
		case rerr == nil:
			return bytes.Equal(got, data), nil
		case errors.Is(rerr, ErrNotFound):
			if errors.Is(err, ErrConflict) {
				// Taken, then deleted: a prune got there. Treat as lost; the catch-up finds out.
				return false, nil
			}
			lastErr = err // not written: try again
		default:
			return false, fmt.Errorf("%w: entry %d: %w (and reading it back: %v)", ErrUncertain, seq, err, rerr)
		}
	}
	// Never seen in the slot, but an attempt still in flight could land later.
	return false, fmt.Errorf("%w: entry %d: %w", ErrUncertain, seq, lastErr)
}

// catchUpFrom returns m advanced to the end of the log, and records it as the state.
func (s *Store) catchUpFrom(ctx context.Context, m *Manifest) (*Manifest, error) {
	next, mark, at, err := s.readForward(ctx, m, s.mark(), false, nil, nil)
	if err != nil {
		return nil, err
	}
	s.setMark(mark)
	s.setState(next)
	s.setAnchor(next, at)
	return next, nil
}

func newestSnapshot(snaps []SnapshotInfo) Seq {
	var n Seq
	for _, sn := range snaps {
		n = max(n, sn.Seq)
	}
	return n
}

// maxChainCheck bounds how many entries isLogEntry reads before it gives up.
const maxChainCheck = 100_000

// isLogEntry reports whether the entry at seq hashing to hash is the log's entry seq, given
// m, a verified state past seq; conclusive is false if that cannot be established. m
// remembers the hashes of its last 1024 entries, which settles it at no cost; further
// back, the entries after seq must still exist and chain from it to m (a proof anchored in
// m, so strays in pruned slots cannot fake it).
func (s *Store) isLogEntry(ctx context.Context, seq Seq, hash uint64, m *Manifest) (ours, conclusive bool, err error) {
	if h, ok := m.entryHashAt(uint64(seq)); ok {
		return h == hash, true, nil
	}
	if uint64(seq) >= m.LogSeq || m.LogSeq-uint64(seq) > maxChainCheck {
		return false, false, nil
	}
	var prev, h uint64
	for next := seq + 1; uint64(next) <= m.LogSeq; next++ {
		data, err := s.storage.ReadLogEntry(ctx, next)
		if errors.Is(err, ErrNotFound) {
			return false, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("manifest: check entry %d: %w", seq, err)
		}
		e, err := DecodeLogEntry(LogEntryKey(next), data)
		if err != nil {
			return false, false, err
		}
		if next == seq+1 {
			prev = e.PrevHash
		} else if e.PrevHash != h {
			return false, false, nil
		}
		h = entryHash(data)
	}
	if h != m.chain {
		return false, false, nil
	}
	return prev == hash, true, nil
}

// applied reports whether m shows the effect of e, which only e can have had: an added
// SST, or a compaction's output, present with e's metadata.
func applied(m *Manifest, e *ManifestLogEntry) bool {
	var probe *SSTMeta
	switch {
	case e.Kind == EntryAddSST:
		probe = e.SST
	case e.Kind == EntryCompaction && e.Compaction.OutputRun != nil:
		probe = &e.Compaction.OutputRun.SSTs[0]
	default:
		return false
	}
	got := m.LookupSST(probe.ID)
	return got != nil && equalSST(got, probe)
}
