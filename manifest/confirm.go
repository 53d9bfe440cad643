package manifest

// Confirming an append without a request.
//
// After its put-if-absent of slot N lands, an appender must know that slot N had never
// been pruned (a deleted slot can be created again: see "Fencing and the paused zombie"
// in docs/format.md). The general proof is a listing of the snapshots made after the
// write's reply: if none lies beyond N, no prune can have deleted N (rule 1 there). That
// costs one LIST per append, a third sequential round trip per flush. This file gives a
// proof that costs nothing when the appender's knowledge of the log is recent.
//
// The anchor. A Store records, with its state at position P, a time A (its own clock)
// at which slot P+1 had never held an entry of the log:
//
//   - after its own append of P is confirmed: A is the time just before the create was
//     sent. The entry landed after A, and an entry P+1 of the log names P's hash, which
//     nobody can know before P landed;
//   - after a replay or catch-up that ended at P: A is the time the final reading round
//     started. The read of slot P+1 that found it empty was sent after A, and the reader
//     proved that empty slot was never pruned (a listing after the read, or the trust
//     window), so no entry P+1 of the log existed when it was read.
//
// The argument. Let the appender, on state P with anchor A, create slot N = P+1, and let
// the reply arrive at R, measured on the same clock (Go's monotonic clock by default, so
// wall-clock steps do not matter). Suppose the entry landed in a pruned slot. Then an
// entry N of the log landed at some T_N > A; a snapshot beyond N was created at
// T_S > T_N (it contains entry N); a prune deleted slot N at T_P, after judging that
// snapshot at least PruneGrace old by comparing its own clock with the storage's creation
// time; and our entry landed after T_P, before R. So R - A > T_P - T_S >= PruneGrace -
// skew, where skew is how far the pruner's clock runs ahead of the storage's. The
// appender therefore skips the listing only if R - A < PruneGrace/2: this is sound as
// long as every process that prunes the bucket waits at least this Store's PruneGrace,
// and clocks differ by less than PruneGrace/2 — the assumption readers already make for
// their trust window (StoreOptions.PruneGrace). Otherwise (an appender idle for minutes,
// or paused: a zombie), it lists as before, and rules 2 and 3 of docs/format.md apply
// unchanged. The write itself may still have been delayed arbitrarily: the argument
// measures up to its reply, never to when it was sent.
//
// Fencing is unchanged: the entry is still put-if-absent on a state whose fence was
// checked, a lost race still catches up and re-checks the fence, and an entry is
// acknowledged only when it is proven to be the log's entry N. What changes is how the
// last fact is proven for an appender that is not paused: by the age of its anchor
// instead of a listing. A zombie paused across a claim, a snapshot and a prune was paused
// for at least PruneGrace minus the skew, so it takes the listing path and is refused as
// before (TestZombieWriterGrace pauses writers with a fake clock to check both paths).
//
// StoreOptions.ConfirmEveryAppend restores the listing after every append, for
// deployments that cannot bound clock skew or that prune with a shorter grace elsewhere.
// A PruneGrace of zero or less disables the fast path too (there is no window).

import "time"

// anchor records that at time at (the Store's clock) no entry after position seq, whose
// entry hash is chain, existed in the log.
type anchor struct {
	seq   uint64
	chain uint64
	at    time.Time
	valid bool
}

// setAnchor records that the log ended at m at time at, if that is newer than the anchor
// held.
func (s *Store) setAnchor(m *Manifest, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.mu.anchor
	if !a.valid || m.LogSeq > a.seq || (m.LogSeq == a.seq && at.After(a.at)) {
		*a = anchor{seq: m.LogSeq, chain: m.chain, at: at, valid: true}
	}
}

// confirmedByAnchor reports whether an entry that just landed in slot seq (= m.LogSeq+1),
// created on m, is proven to be the log's entry by the anchor of m without a listing. It
// says no when a snapshot is due after this append, so that the listing the snapshot and
// prune need is made anyway.
func (s *Store) confirmedByAnchor(m *Manifest, seq Seq) bool {
	w := s.opts.trustWindow()
	if w <= 0 || s.opts.ConfirmEveryAppend {
		return false
	}
	s.mu.Lock()
	a := s.mu.anchor
	known := max(s.mu.ownSnap, s.mu.mark.newest)
	s.mu.Unlock()
	if !a.valid || a.seq != m.LogSeq || a.chain != m.chain {
		return false
	}
	if s.opts.SnapshotEvery > 0 && uint64(seq-known) >= uint64(s.opts.SnapshotEvery) {
		return false
	}
	return s.opts.Clock().Sub(a.at) < w
}
