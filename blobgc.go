package isledb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
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
// The writer side (uploadBlobs and recheckBlobs, on every flush attempt):
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
// with a fresh state holding nothing doomed ("Damaged GC state" in gc.go), so a writer can
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
// that finds a blob doomed waits at most maxDoomedWait before failing the flush attempt
// (the flush loop retries it).

// errBlobBeingDeleted: a flush reuses a blob that blob GC is deleting, and it stayed in the
// doomed state longer than the writer waits. The flush attempt fails and is retried.
var errBlobBeingDeleted = errors.New("isledb: blob is being deleted by blob GC")

// maxDoomedWait bounds how long one flush attempt waits for blob GC to finish deleting a
// blob it reuses. A sweep takes a few requests; one interrupted by a crash is finished by
// the next GC pass.
const maxDoomedWait = 30 * time.Second

// blobPass runs blob GC: it finishes a sweep left over, then, if BlobGC.Interval has passed,
// marks, stamps and dooms (G1–G3) and sweeps (G4). m and marks are the manifest and the
// marks the SST pass used (for which SSTs hold no blob reference); the listing of the SST
// pass is not used: blob GC lists after loading the checkpoint (G1, G2).
func (g *collector) blobPass(ctx context.Context, m *manifest.Manifest, _ map[string]blobstore.ObjectInfo, marks gcMarks, st *GCStats) error {
	if !g.opts.blob.Enabled {
		return nil
	}
	ckp, err := g.checkpoint(ctx)
	if err != nil {
		return err
	}
	if ckp.doomed() > 0 {
		if err := g.sweep(ctx, st); err != nil {
			return err
		}
	}
	if now := g.clock(); !g.lastBlob.IsZero() && now.Sub(g.lastBlob) < g.opts.blob.Interval {
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
func (g *collector) markBlobs(ctx context.Context, m *manifest.Manifest, marks gcMarks) (time.Time, int, error) {
	minAge := g.opts.blob.MinAge
	for range maxCASAttempts {
		ckp, tok, exists, err := g.loadCheckpoint(ctx)
		if err != nil {
			return time.Time{}, 0, err
		}
		now := g.clock()
		objs, err := g.listSSTs(ctx)
		if err != nil {
			return time.Time{}, 0, err
		}
		referenced, err := g.blobRefs(ctx, m, marks, objs)
		if err != nil {
			return time.Time{}, 0, err
		}
		list, err := g.store.ListBlobFiles(ctx)
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("isledb: blob gc: list blobs: %w", err)
		}
		listed := make(map[[32]byte]struct{}, len(list))
		doomed := 0
		for _, b := range list {
			h, ok := blobHash(b.Key)
			if !ok {
				continue // not a name blob GC understands: leave it
			}
			listed[h] = struct{}{}
			e, known := ckp.blobs[h]
			if known && e.state == blobDoomed {
				doomed++
				continue
			}
			if _, ref := referenced[h]; ref || now.Sub(b.ModTime) < minAge {
				delete(ckp.blobs, h) // referenced (again), or written anew
				continue
			}
			e.size = b.Size
			switch {
			case !known:
				e = blobEntry{state: blobCandidate, size: b.Size}
			case e.markedAt == 0:
				e.markedAt = now.UnixNano()
			case now.Sub(time.Unix(0, e.markedAt)) >= minAge:
				e.state = blobDoomed
				doomed++
			}
			ckp.blobs[h] = e
		}
		for h, e := range ckp.blobs {
			if _, ok := listed[h]; !ok && e.state != blobDoomed {
				delete(ckp.blobs, h) // gone
			}
		}
		ckp.lastBlobGC = max(ckp.lastBlobGC, now.UnixNano())
		ckp.logSeq = max(ckp.logSeq, m.LogSeq)
		err = g.marks.StoreGCCheckpoint(ctx, encodeGCCheckpoint(ckp), tok, exists)
		if errors.Is(err, manifest.ErrConflict) {
			continue // a writer or another pass changed the state: list again
		}
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("isledb: blob gc: store checkpoint: %w", err)
		}
		return now, doomed, nil
	}
	return time.Time{}, 0, fmt.Errorf("isledb: blob gc: store checkpoint: %w: gave up after %d attempts", manifest.ErrConflict, maxCASAttempts)
}

// blobRefs returns the blob hashes the SST objects objs refer to, and forgets the cached
// references of SSTs no longer in the bucket.
func (g *collector) blobRefs(ctx context.Context, m *manifest.Manifest, marks gcMarks, objs map[string]blobstore.ObjectInfo) (map[[32]byte]struct{}, error) {
	liveRefs := make(map[string]bool, len(objs)) // live SST id → whether it holds blob refs
	for s := range m.SSTs() {
		liveRefs[s.ID] = s.HasBlobRefs
	}
	referenced := map[[32]byte]struct{}{}
	for id, obj := range objs {
		if refs, ok := liveRefs[id]; ok && !refs {
			continue
		}
		if mk, ok := marks[id]; ok && mk.flags&markRefsKnown != 0 && mk.flags&markBlobRefs == 0 {
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
func (g *collector) sweep(ctx context.Context, st *GCStats) error {
	ckp, _, _, err := g.loadCheckpoint(ctx)
	if err != nil {
		return err
	}
	var hashes [][32]byte
	for h, e := range ckp.blobs {
		if e.state == blobDoomed {
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
	derr := g.store.BatchDelete(ctx, keys)
	var be *blobstore.BatchDeleteError
	if derr != nil && !errors.As(derr, &be) {
		return fmt.Errorf("isledb: blob gc: delete: %w", derr)
	}
	var gone [][32]byte
	for i, k := range keys {
		if be == nil || be.Failed[k] == nil {
			gone = append(gone, hashes[i])
		}
	}
	var n int
	var size int64
	var untracked []string
	err = g.updateCheckpoint(ctx, func(c *gcCheckpoint) bool {
		n, size, untracked = 0, 0, untracked[:0]
		for _, h := range gone {
			if e, ok := c.blobs[h]; ok && e.state == blobDoomed {
				delete(c.blobs, h)
				n++
				size += e.size
			} else {
				untracked = append(untracked, g.store.BlobPath(hex.EncodeToString(h[:])))
			}
		}
		c.blobsDeleted += uint64(n)
		return n > 0
	})
	if err != nil {
		return err
	}
	if len(untracked) > 0 {
		// Another sweep (a zombie compactor's) removed them, or the state was damaged and
		// rebuilt while this sweep was deleting: a writer may then have stopped waiting
		// for one of these deletes before it landed (see "Damaged GC state" in gc.go).
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

// claimBlobs is the writer's step W0/W2 for the blobs hashes of a flush: it removes those
// that are candidates from the blob GC state and returns those that are doomed (being
// deleted; the caller waits and calls again), and the checkpoint's count of blobs deleted
// (which grows with every sweep that removes a blob from the state).
//
// A damaged checkpoint is set aside and replaced with a fresh one, with a warning to the
// DB's logger (see "Damaged GC state" in gc.go): a blob seen doomed before is then no
// longer doomed, and the count restarts at a random value. The caller checks every blob
// it saw doomed, and every blob of the flush if the count changed since its first look
// (W3), and puts back what a sweep deleted.
func claimBlobs(ctx context.Context, db *DB, hashes [][32]byte) ([][32]byte, uint64, error) {
	marks := db.gcmarks
	repair := gcRepair{store: db.store, logger: db.logger, now: time.Now}
	for range maxCASAttempts {
		c, tok, exists, err := loadGCCheckpoint(ctx, marks, repair)
		if err != nil {
			return nil, 0, fmt.Errorf("load the blob GC state: %w", err)
		}
		if !exists {
			return nil, 0, nil
		}
		var doomed [][32]byte
		changed := false
		for _, h := range hashes {
			switch e, ok := c.blobs[h]; {
			case !ok:
			case e.state == blobDoomed:
				doomed = append(doomed, h)
			default:
				delete(c.blobs, h)
				changed = true
			}
		}
		if !changed {
			return doomed, c.blobsDeleted, nil
		}
		err = marks.StoreGCCheckpoint(ctx, encodeGCCheckpoint(c), tok, true)
		if errors.Is(err, manifest.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("store the blob GC state: %w", err)
		}
		return doomed, c.blobsDeleted, nil
	}
	return nil, 0, fmt.Errorf("store the blob GC state: %w: gave up after %d attempts", manifest.ErrConflict, maxCASAttempts)
}

// blobHash parses "blob/<64 hex digits>".
func blobHash(key string) ([32]byte, bool) {
	s, ok := base.BlobIDOfKey(key)
	if !ok {
		return [32]byte{}, false
	}
	return blobIDHash(s)
}

// blobIDHash parses a blob id (64 hex digits).
func blobIDHash(id string) ([32]byte, bool) {
	var h [32]byte
	if len(id) != 64 {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(id)); err != nil {
		return h, false
	}
	return h, true
}

// loadCheckpoint loads the GC checkpoint (empty if absent) and its CAS state. A damaged
// checkpoint is set aside and replaced with a fresh one (loadGCCheckpoint).
func (g *collector) loadCheckpoint(ctx context.Context) (gcCheckpoint, string, bool, error) {
	c, tok, exists, err := loadGCCheckpoint(ctx, g.marks, g.repairer())
	if err != nil {
		return gcCheckpoint{}, "", false, fmt.Errorf("isledb: gc: %w", err)
	}
	return c, tok, exists, nil
}

// loadGCCheckpoint loads the GC checkpoint (empty if absent) and its CAS state, for the
// collector and the writers alike. A damaged checkpoint is set aside and replaced, by CAS,
// with a fresh one (see "Damaged GC state" in gc.go): no blob GC state (nothing doomed),
// no last run, and blobsDeleted at a random value with the top bit set, so that a writer
// that read it before the damage sees it change.
func loadGCCheckpoint(ctx context.Context, marks manifest.GCMarkStorage, r gcRepair) (gcCheckpoint, string, bool, error) {
	c, tok, exists, err := loadGCState(ctx, r, manifest.GCCheckpointKey,
		marks.LoadGCCheckpoint, marks.StoreGCCheckpoint, decodeGCCheckpoint, freshGCCheckpoint,
		"blob GC restarts its candidates from scratch (nothing doomed); writers re-check their blobs")
	if err != nil {
		return gcCheckpoint{}, "", false, err
	}
	if !exists {
		c = gcCheckpoint{blobs: map[[32]byte]blobEntry{}}
	}
	return c, tok, exists, nil
}

// freshGCCheckpoint encodes the checkpoint that replaces a damaged one.
func freshGCCheckpoint() []byte {
	return encodeGCCheckpoint(gcCheckpoint{blobsDeleted: rand.Uint64() | 1<<63, blobs: map[[32]byte]blobEntry{}})
}

// checkpoint loads the GC checkpoint; the first time, it takes the last blob GC run from it.
func (g *collector) checkpoint(ctx context.Context) (gcCheckpoint, error) {
	c, _, _, err := g.loadCheckpoint(ctx)
	if err != nil {
		return gcCheckpoint{}, err
	}
	if !g.loadedCkp {
		g.loadedCkp = true
		if c.lastBlobGC > 0 {
			g.lastBlob = time.Unix(0, c.lastBlobGC)
		}
	}
	return c, nil
}

// updateCheckpoint applies fn to the checkpoint and stores it, reloading and applying fn
// again on a conflict. fn reports whether it changed anything.
func (g *collector) updateCheckpoint(ctx context.Context, fn func(*gcCheckpoint) bool) error {
	for range maxCASAttempts {
		c, tok, exists, err := g.loadCheckpoint(ctx)
		if err != nil {
			return err
		}
		if !fn(&c) {
			return nil
		}
		err = g.marks.StoreGCCheckpoint(ctx, encodeGCCheckpoint(c), tok, exists)
		if !errors.Is(err, manifest.ErrConflict) {
			if err != nil {
				return fmt.Errorf("isledb: gc: store checkpoint: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("isledb: gc: store checkpoint: %w: gave up after %d attempts", manifest.ErrConflict, maxCASAttempts)
}

// The GC checkpoint, "gc/checkpoint". Version 2 (written; docs/format.md):
//
//	+--------+---------+------------+---------+--------------+---------+--------------+-----------------+
//	| "IGCC" | version | lastBlobGC | logSeq  | blobsDeleted | count   | count × blob | CRC-32C (LE)    |
//	| 4 B    | 1 B = 2 | varint     | uvarint | uvarint      | uvarint |              | 4 B, of all     |
//	|        |         |            |         |              |         |              | bytes before it |
//	+--------+---------+------------+---------+--------------+---------+--------------+-----------------+
//
//	blob:
//	+---------+-------+----------+---------+
//	| hash    | state | markedAt | size    |
//	| 32 B    | 1 B   | varint   | uvarint |
//	+---------+-------+----------+---------+
//
// lastBlobGC is when blob GC last marked (unix nanoseconds, 0: never); logSeq the manifest
// position it ran against; blobsDeleted how many blobs it has deleted in all (counted from
// a random value with bit 63 set after a damaged checkpoint was rebuilt: writers only
// compare it for change). The blobs are
// the blob GC state, sorted by hash (the blob's SHA-256, its name), hashes unique: state 1
// is a candidate, 2 doomed; markedAt the candidate's stamp (unix nanoseconds; 0: not yet
// stamped); size the blob's size in bytes.
//
// Version 1 (frozen, still read, no longer written) is version 2 without count and blobs:
//
//	+--------+---------+------------+---------+--------------+-----------------+
//	| "IGCC" | version | lastBlobGC | logSeq  | blobsDeleted | CRC-32C (LE)    |
//	| 4 B    | 1 B = 1 | varint     | uvarint | uvarint      | 4 B, of all     |
//	|        |         |            |         |              | bytes before it |
//	+--------+---------+------------+---------+--------------+-----------------+
const (
	gcCheckpointMagic   = "IGCC"
	gcCheckpointVersion = 2

	blobCandidate = 1
	blobDoomed    = 2

	blobEntryMinSize = 32 + 1 + 1 + 1
)

type gcCheckpoint struct {
	lastBlobGC   int64
	logSeq       uint64
	blobsDeleted uint64
	blobs        map[[32]byte]blobEntry // never nil once loaded or decoded
}

// blobEntry is one blob's blob GC state.
type blobEntry struct {
	state    uint8
	markedAt int64
	size     int64
}

// doomed counts the doomed blobs.
func (c gcCheckpoint) doomed() int {
	n := 0
	for _, e := range c.blobs {
		if e.state == blobDoomed {
			n++
		}
	}
	return n
}

func encodeGCCheckpoint(c gcCheckpoint) []byte {
	b := make([]byte, 0, 32+len(c.blobs)*(blobEntryMinSize+12))
	b = append(append(b, gcCheckpointMagic...), gcCheckpointVersion)
	b = binary.AppendVarint(b, c.lastBlobGC)
	b = binary.AppendUvarint(b, c.logSeq)
	b = binary.AppendUvarint(b, c.blobsDeleted)
	b = binary.AppendUvarint(b, uint64(len(c.blobs)))
	hashes := slices.SortedFunc(maps.Keys(c.blobs), func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, h := range hashes {
		e := c.blobs[h]
		b = append(b, h[:]...)
		b = append(b, e.state)
		b = binary.AppendVarint(b, e.markedAt)
		b = binary.AppendUvarint(b, uint64(e.size))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// decodeGCCheckpoint decodes version 1 or 2.
func decodeGCCheckpoint(data []byte) (gcCheckpoint, error) {
	// Version 1 is still read; any other version is checked against the CRC first, so
	// damage reads as damage, then refused as unsupported.
	want := byte(gcCheckpointVersion)
	if len(data) > len(gcCheckpointMagic) && data[len(gcCheckpointMagic)] == 1 {
		want = 1
	}
	d, err := openGCObject(manifest.GCCheckpointKey, data, gcCheckpointMagic, want)
	if err != nil {
		return gcCheckpoint{}, err
	}
	version := want
	c := gcCheckpoint{blobs: map[[32]byte]blobEntry{}}
	c.lastBlobGC = d.varint("last blob gc")
	c.logSeq = d.uvarint("log seq")
	c.blobsDeleted = d.uvarint("blobs deleted")
	if version >= 2 {
		n := d.uvarint("blob count")
		if n > uint64(len(d.b))/blobEntryMinSize {
			d.fail("blob count")
		}
		var prev []byte
		for i := uint64(0); i < n && d.err == nil; i++ {
			h := d.bytes(32, "blob hash")
			st := d.bytes(1, "blob state")
			markedAt := d.varint("blob stamp")
			size := d.uvarint("blob size")
			if d.err != nil {
				break
			}
			if (prev != nil && bytes.Compare(prev, h) >= 0) || (st[0] != blobCandidate && st[0] != blobDoomed) || markedAt < 0 || size > 1<<62 {
				d.fail("blob " + hex.EncodeToString(h))
				break
			}
			prev = h
			c.blobs[[32]byte(h)] = blobEntry{state: st[0], markedAt: markedAt, size: int64(size)}
		}
	}
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return gcCheckpoint{}, d.err
	}
	return c, nil
}
