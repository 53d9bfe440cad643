package gc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/compaction"
	"github.com/isledb/isledb/manifest"
)

// Blob garbage collection, and how it stays out of the writers' way.
//
// Blobs are content-addressed ("blob/<sha256>") and written put-if-absent, so a flush may
// reuse a blob that already exists, however old, and that no SST refers to yet. No backend
// offers a conditional delete (and an S3 ETag does not change when identical content is
// rewritten), so blob GC and the writers agree through ONE compare-and-swap object: the GC
// checkpoint ("gc/checkpoint", version 2, through GCMarkStorage). Besides the run times it
// holds the state of each blob that blob GC means to delete:
//
//   - candidate, unstamped: a pass found it unreferenced and at least MinAge old;
//   - candidate, stamped at s: a later pass loaded a version holding it and read s on its
//     clock just after that load (so s is after the CAS that made it a candidate);
//   - doomed: a pass at least MinAge after s found it still unreferenced and old; it is
//     being deleted. It leaves the state only once its delete has returned success.
//
// The GC side (blobPass; marking runs at most every BlobGC.Interval, sweeping every pass):
//
//	G1. load the checkpoint (version v0), then read the clock: now;
//	G2. list "sst/" — every SST object: live, pending deletion, orphan, in flight — and
//	    collect their references (read once per SST id and cached; SSTs whose manifest
//	    entry or mark says they hold none are skipped);
//	G3. list "blob/"; a blob referenced, younger than MinAge, or gone leaves the state
//	    (doomed ones excepted); one unreferenced and MinAge old becomes an unstamped
//	    candidate, an unstamped candidate is stamped now, and a candidate stamped MinAge
//	    before now is doomed. Store the result by CAS against v0, with no merge: on a
//	    conflict the pass starts again at G1. So every blob doomed was a candidate, and
//	    untouched by any writer, from before the listing of G2 began;
//	G4. sweep: delete the doomed blobs, then remove from the state (CAS, merging) those
//	    whose delete returned success. Every pass first finishes a sweep a crash or a
//	    failed delete left behind.
//
// The writer side (the root's Writer.uploadBlobs and recheckBlobs, through ClaimBlobs, on
// every flush attempt):
//
//	W0. load the checkpoint (as in W2; nothing to wait for yet): note which of the flush's
//	    blobs are doomed, and blobsDeleted, which every sweep that removes a blob from the
//	    state increases.
//	W1. put each blob if absent; one that existed is reused, one that was absent is new.
//	W2. load the checkpoint; remove the flush's blobs that are candidates (CAS, reloading
//	    on a conflict); if any is doomed, wait until it has left the state (the sweep's
//	    delete call, retries included, has returned), and load again.
//	W3. check that each reused blob, and each blob seen doomed, exists — every blob of the
//	    flush if blobsDeleted changed since W0 — and put it again (if absent) where it
//	    does not. (A sweep's delete whose reply was lost is sent again by the store, and may
//	    remove a copy that W1 created in between; that sweep either still dooms the blob
//	    at W2, or has removed it from the state, and so changed blobsDeleted, since W0.)
//	W4. upload the SST X, then W2 and W3 again (every blob checked if blobsDeleted changed
//	    since the last look) before X's manifest append. Call the last look t4.
//
// Assumptions. (B) clocks (compactors, bucket) agree to well within MinAge (it only
// affects which blobs become candidates). (C) a listing of "sst/" takes less than
// GCGracePeriod. (D) a delete has no effect once the store call that sent it (its retries
// included) has returned — no request delayed beyond that — and a zombie compactor (one
// fenced without noticing) does not sweep concurrently with the live one: two sweeps of
// the same doomed blob, one of them with its delete still in flight after the other
// removed the blob from the state, could delete a copy a writer has put back since. (E)
// writers and compactors use the same GCMarkStorage (DBOptions.GCMarkStorage,
// CompactorOptions.GCMarkStorage). (F) the checkpoint is not damaged (from outside the
// protocol) while a sweep's delete calls are in flight: a damaged checkpoint is replaced
// with a fresh state holding nothing doomed ("Damaged GC state" in state.go), so a writer can
// no longer see that a delete is on its way. Damage at any other time is safe: the fresh
// state only restarts blob GC's cycle, and its new blobsDeleted makes writers that looked
// before the damage check every blob. No bound on how long a flush takes is needed (W4).
// CompactorOptions.Validate requires MinAge >= GCGracePeriod, and the writer has no blob
// GC setting: nothing has to agree between them.
//
// Why a blob B that an SST X refers to is never deleted while X is in the bucket. (While a
// compaction rewrites X, its output, which refers to B too, is uploaded before X leaves the
// manifest, and X is deleted a grace period after that, so by (C) every listing shows one
// of them.) B is deleted only after a CAS D, against a version v0 loaded before a listing L
// that started after the clock read now0, doomed it: B was a candidate at v0 stamped at s,
// and L showed nothing referring to B.
//
//  1. X was uploaded before L started: L shows X, so D cannot doom B. Otherwise X was
//     uploaded after L started, so after v0 was loaded.
//  2. The look at t4 came after D: the writer saw B doomed (and waited until its delete
//     returned), or gone from the state, which the sweep does only after the delete
//     returned and which changes blobsDeleted. Either way it checks B and puts it back if
//     missing; deleting that copy needs another doom whose listing started after t4, after
//     X's upload: case 1.
//  3. The look at t4 came before D. D directly follows v0, so the version the writer saw
//     is v0 or older. B was no candidate there (the writer removed it, or it was absent),
//     but a stamped candidate at v0: a CAS after t4 made it a candidate again, and its
//     stamp, then now0 and L, were all read later still. So L started after t4, after X
//     was uploaded: case 1.
//
// Concurrent GC passes (a merge and a retention compactor, or a compactor and its
// successor) are serialized by the same CAS: marks never merge, and sweeps remove only
// what they deleted themselves; (D) excludes the one race this does not cover. A writer
// that finds a blob doomed waits at most MaxDoomedWait before failing the flush attempt
// (the flush loop retries it).

// ErrBlobBeingDeleted: a flush reuses a blob that blob GC is deleting, and it stayed in the
// doomed state longer than the writer waits. The flush attempt fails and is retried.
var ErrBlobBeingDeleted = errors.New("isledb: blob is being deleted by blob GC")

// MaxDoomedWait bounds how long one flush attempt waits for blob GC to finish deleting a
// blob it reuses. A sweep takes a few requests; one interrupted by a crash is finished by
// the next GC pass.
const MaxDoomedWait = 30 * time.Second

// blobPass runs blob GC: it finishes a sweep left over, then, if BlobGC.Interval has passed,
// marks, stamps and dooms (G1–G3) and sweeps (G4). m and marks are the manifest and the
// marks the SST pass used (for which SSTs hold no blob reference); the listing of the SST
// pass is not used: blob GC lists after loading the checkpoint (G1, G2).
func (g *Collector) blobPass(ctx context.Context, m *manifest.Manifest, marks Marks, st *Stats) error {
	if !g.opts.Blob.Enabled {
		return nil
	}
	ckp, err := g.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if ckp.doomed() > 0 {
		if err := g.sweep(ctx, st); err != nil {
			return err
		}
	}
	if now := g.clock(); !g.lastBlob.IsZero() && now.Sub(g.lastBlob) < g.opts.Blob.Interval {
		return nil
	}
	now, doomed, err := g.markBlobs(ctx, m, marks)
	if err != nil {
		return err
	}
	g.lastBlob = now
	if doomed > 0 {
		return g.sweep(ctx, st)
	}
	return nil
}

// markBlobs runs G1–G3 and returns the clock reading of the attempt that stored, and how
// many blobs are doomed after it.
func (g *Collector) markBlobs(ctx context.Context, m *manifest.Manifest, marks Marks) (time.Time, int, error) {
	minAge := g.opts.Blob.MinAge
	var (
		now    time.Time
		doomed int
		fnErr  error
	)
	err := update(ctx, g.ckp, g.repairer(), func(ckp *Checkpoint) (bool, error) {
		now = g.clock()
		objs, err := g.listSSTs(ctx)
		if err != nil {
			fnErr = err
			return false, err
		}
		referenced, err := g.blobRefs(ctx, m, marks, objs)
		if err != nil {
			fnErr = err
			return false, err
		}
		list, err := g.store.ListBlobFiles(ctx)
		if err != nil {
			fnErr = fmt.Errorf("isledb: blob gc: list blobs: %w", err)
			return false, fnErr
		}
		listed := make(map[[32]byte]struct{}, len(list))
		doomed = 0
		for _, b := range list {
			h, ok := BlobHash(b.Key)
			if !ok {
				continue // not a name blob GC understands: leave it
			}
			listed[h] = struct{}{}
			e, known := ckp.Blobs[h]
			if known && e.State == BlobDoomed {
				doomed++
				continue
			}
			if _, ref := referenced[h]; ref || now.Sub(b.ModTime) < minAge {
				delete(ckp.Blobs, h) // referenced (again), or written anew
				continue
			}
			e.Size = b.Size
			switch {
			case !known:
				e = BlobEntry{State: BlobCandidate, Size: b.Size}
			case e.MarkedAt == 0:
				e.MarkedAt = now.UnixNano()
			case now.Sub(time.Unix(0, e.MarkedAt)) >= minAge:
				e.State = BlobDoomed
				doomed++
			}
			ckp.Blobs[h] = e
		}
		for h, e := range ckp.Blobs {
			if _, ok := listed[h]; !ok && e.State != BlobDoomed {
				delete(ckp.Blobs, h) // gone
			}
		}
		ckp.LastBlobGC = max(ckp.LastBlobGC, now.UnixNano())
		ckp.LogSeq = max(ckp.LogSeq, m.LogSeq)
		return true, nil // stored by CAS against G1's version: on a conflict, list again
	})
	if err != nil {
		if fnErr != nil {
			return time.Time{}, 0, err // wrapped already
		}
		return time.Time{}, 0, fmt.Errorf("isledb: blob gc: %w", err)
	}
	return now, doomed, nil
}

// blobRefs returns the blob hashes the SST objects objs refer to, and forgets the cached
// references of SSTs no longer in the bucket.
func (g *Collector) blobRefs(ctx context.Context, m *manifest.Manifest, marks Marks, objs map[string]blobstore.ObjectInfo) (map[[32]byte]struct{}, error) {
	liveRefs := make(map[string]bool, len(objs)) // live SST id → whether it holds blob refs
	for s := range m.SSTs() {
		liveRefs[s.ID] = s.HasBlobRefs
	}
	referenced := map[[32]byte]struct{}{}
	for id, obj := range objs {
		if refs, ok := liveRefs[id]; ok && !refs {
			continue
		}
		if mk, ok := marks[id]; ok && mk.Flags&MarkRefsKnown != 0 && mk.Flags&MarkBlobRefs == 0 {
			continue
		}
		refs, ok := g.refs[id]
		if !ok {
			err := compaction.BlobRefs(ctx, g.store, id, obj.Size, func(v []byte) error {
				r, err := blobref.Decode(v)
				if err != nil {
					return base.CorruptionErrorf(g.store.SSTPath(id), -1, "blob reference: %v", err)
				}
				refs = append(refs, r.Hash)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("isledb: blob gc: %w", err)
			}
			g.refs[id] = refs
		}
		for _, h := range refs {
			referenced[h] = struct{}{}
		}
	}
	for id := range g.refs {
		if _, ok := objs[id]; !ok {
			delete(g.refs, id)
		}
	}
	return referenced, nil
}

// sweep deletes the doomed blobs and then removes from the state those it deleted (G4).
func (g *Collector) sweep(ctx context.Context, st *Stats) error {
	ckp, err := g.loadCheckpoint(ctx)
	if err != nil {
		return err
	}
	var hashes [][32]byte
	for h, e := range ckp.Blobs {
		if e.State == BlobDoomed {
			hashes = append(hashes, h)
		}
	}
	if len(hashes) == 0 {
		return nil
	}
	slices.SortFunc(hashes, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = g.store.BlobPath(hex.EncodeToString(h[:]))
	}
	goneIdx, derr := deleteObjects(ctx, g.store, keys)
	if be := (*blobstore.BatchDeleteError)(nil); derr != nil && !errors.As(derr, &be) {
		return fmt.Errorf("isledb: blob gc: delete: %w", derr)
	}
	gone := make([][32]byte, 0, len(goneIdx))
	for _, i := range goneIdx {
		gone = append(gone, hashes[i])
	}
	var n int
	var size int64
	var untracked []string
	err = update(ctx, g.ckp, g.repairer(), func(c *Checkpoint) (bool, error) {
		n, size, untracked = 0, 0, untracked[:0]
		for _, h := range gone {
			if e, ok := c.Blobs[h]; ok && e.State == BlobDoomed {
				delete(c.Blobs, h)
				n++
				size += e.Size
			} else {
				untracked = append(untracked, g.store.BlobPath(hex.EncodeToString(h[:])))
			}
		}
		c.BlobsDeleted += uint64(n)
		return n > 0, nil
	})
	if err != nil {
		return fmt.Errorf("isledb: gc: %w", err)
	}
	if len(untracked) > 0 {
		// Another sweep (a zombie compactor's) removed them, or the state was damaged and
		// rebuilt while this sweep was deleting: a writer may then have stopped waiting
		// for one of these deletes before it landed (see "Damaged GC state" in state.go).
		g.logger.Warn("isledb: blob gc: blobs deleted by this sweep had left the blob GC state meanwhile; check that no SST refers to them",
			"blobs", untracked)
	}
	st.BlobsDeleted += n
	st.BlobBytesDeleted += size
	if derr != nil {
		return fmt.Errorf("isledb: blob gc: delete: %w", derr)
	}
	return nil
}

// ClaimBlobs is the writer's step W0/W2 for the blobs hashes of a flush: it removes those
// that are candidates from the blob GC state (in marks, the DB's GCMarkStorage) and
// returns those that are doomed (being deleted; the caller waits and calls again), and
// the checkpoint's count of blobs deleted (which grows with every sweep that removes a
// blob from the state).
//
// A damaged checkpoint is set aside in store and replaced with a fresh one, with a
// warning to logger (see "Damaged GC state" in state.go): a blob seen doomed before is
// then no longer doomed, and the count restarts at a random value. The caller checks
// every blob it saw doomed, and every blob of the flush if the count changed since its
// first look (W3), and puts back what a sweep deleted.
func ClaimBlobs(ctx context.Context, marks manifest.GCMarkStorage, store *blobstore.Store, logger *slog.Logger, hashes [][32]byte) ([][32]byte, uint64, error) {
	var (
		doomed  [][32]byte
		deleted uint64
	)
	r := repair{store: store, logger: logger, now: time.Now}
	err := update(ctx, checkpointObject(marks), r, func(c *Checkpoint) (bool, error) {
		doomed, deleted = nil, c.BlobsDeleted
		changed := false
		for _, h := range hashes {
			switch e, ok := c.Blobs[h]; {
			case !ok:
			case e.State == BlobDoomed:
				doomed = append(doomed, h)
			default:
				delete(c.Blobs, h)
				changed = true
			}
		}
		return changed, nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("the blob GC state: %w", err)
	}
	return doomed, deleted, nil
}

// BlobHash parses "blob/<64 hex digits>".
func BlobHash(key string) ([32]byte, bool) {
	s, ok := base.BlobIDOfKey(key)
	if !ok {
		return [32]byte{}, false
	}
	return BlobIDHash(s)
}

// BlobIDHash parses a blob id (64 hex digits).
func BlobIDHash(id string) ([32]byte, bool) {
	var h [32]byte
	if len(id) != 64 {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(id)); err != nil {
		return h, false
	}
	return h, true
}

// loadCheckpoint loads the GC checkpoint (empty if absent). A damaged checkpoint is set
// aside and replaced with a fresh one.
func (g *Collector) loadCheckpoint(ctx context.Context) (*Checkpoint, error) {
	c, _, _, err := g.ckp.get(ctx, g.repairer())
	if err != nil {
		return nil, fmt.Errorf("isledb: gc: %w", err)
	}
	return c, nil
}

// Checkpoint loads the GC checkpoint (empty if absent); the first time, it takes the last
// blob GC run from it.
func (g *Collector) Checkpoint(ctx context.Context) (Checkpoint, error) {
	c, err := g.loadCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if !g.loadedCkp {
		g.loadedCkp = true
		if c.LastBlobGC > 0 {
			g.lastBlob = time.Unix(0, c.LastBlobGC)
		}
	}
	return *c, nil
}
