package isledb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

// Deferred deletion and blob garbage collection.
//
// A compaction (merge or retention) never deletes what it removes from the manifest: readers
// on an older manifest version may still be reading it. Before its manifest entry is appended
// it records each input in the pending delete marks ("gc/marks", through GCMarkStorage) as an
// intent; a GC pass later notes the time it first sees the SST out of the manifest, and
// deletes the object once that time is GCGracePeriod old. SST objects that no manifest
// names (orphans: outputs of a compaction that failed or crashed, flushes whose manifest
// append never happened) are marked when first seen and deleted the same way, provided the
// object itself is older than the grace period too. A GC pass:
//
//  1. loads the marks, then replays the manifest (and checks the compactor fence: a fenced
//     compactor deletes nothing), then lists "sst/";
//  2. drops the marks of SSTs that are live (an intent whose compaction failed, an orphan
//     that was an in-flight flush) or already gone from the bucket;
//  3. stamps intents whose SST is out of the manifest with the time now, and marks every
//     unmarked object that is out of the manifest as an orphan, stamped now — except an SST
//     of the current writer's epoch above the manifest's largest sequence number, which is
//     a flush in flight;
//  4. deletes the objects whose stamp and modification time are both a grace period old,
//     and stores the marks (compare-and-swap; on a conflict the pass starts over).
//
// Every stamp is taken after the SST left the manifest, so an object is deleted at least a
// grace period after any manifest naming it stopped being current. A crash anywhere leaves
// marks and objects that the next pass completes: deletes are idempotent, and marks of
// objects already gone are dropped. The assumption is that a flush appends its SST to the
// manifest within the grace period of uploading it (the writer re-uploads on every retry),
// and that clocks agree to well within the grace period.
//
// Blob GC (BlobGC.Enabled) is a mark-then-sweep serialized with the writers through the GC
// checkpoint; its protocol and the argument for its safety are in blobgc.go.
//
// Damaged marks (or a damaged checkpoint) never stop GC: they are set aside, replaced by
// CAS with an empty state, and every SST out of the manifest is marked again, stamped at
// the repair, so nothing is deleted less than a grace period after it (see "Damaged GC
// state" below).

// GCStats counts the work of garbage collection: of one pass (RunGC) or, in compactor
// stats, of all passes so far.
type GCStats struct {
	// Passes is the number of GC passes.
	Passes int
	// SSTsDeleted and SSTBytesDeleted count the SST objects deleted.
	SSTsDeleted     int
	SSTBytesDeleted int64
	// BlobsDeleted and BlobBytesDeleted count the blob objects deleted.
	BlobsDeleted     int
	BlobBytesDeleted int64
	// OrphansFound counts SST objects first found in no manifest.
	OrphansFound int
	// Pending is the number of SSTs waiting out their grace period after the last pass.
	Pending int
	// WALObjectsDeleted counts the bucket WAL objects deleted (gc_wal.go).
	WALObjectsDeleted int
}

// String formats the counts on one line.
func (s GCStats) String() string {
	return fmt.Sprintf("%d passes; deleted %d ssts (%d B), %d blobs (%d B); %d orphans found; %d pending",
		s.Passes, s.SSTsDeleted, s.SSTBytesDeleted, s.BlobsDeleted, s.BlobBytesDeleted, s.OrphansFound, s.Pending)
}

func (s *GCStats) add(o GCStats) {
	s.Passes += o.Passes
	s.SSTsDeleted += o.SSTsDeleted
	s.SSTBytesDeleted += o.SSTBytesDeleted
	s.BlobsDeleted += o.BlobsDeleted
	s.BlobBytesDeleted += o.BlobBytesDeleted
	s.OrphansFound += o.OrphansFound
	s.WALObjectsDeleted += o.WALObjectsDeleted
	s.Pending = o.Pending
}

// The defaults of the GC options shared by CompactorOptions and RetentionCompactorOptions.
const (
	DefaultGCGracePeriod = 10 * time.Minute
	DefaultGCInterval    = time.Minute
)

// gcOptions configure a collector.
type gcOptions struct {
	grace    time.Duration
	interval time.Duration
	blob     config.BlobGCOptions
	clock    func() time.Time // nil: time.Now (tests set a fake clock)
}

// collector runs GC passes for a compactor. Its methods are called with the compactor's
// run lock held, one at a time.
type collector struct {
	store *blobstore.Store
	marks manifest.GCMarkStorage
	opts  gcOptions
	epoch uint64
	// latest returns the current manifest, failing with ErrFenced if the compactor fence
	// is not ours.
	latest func(ctx context.Context) (*manifest.Manifest, error)
	clock  func() time.Time
	// logger receives the warnings about damaged GC state set aside.
	logger *slog.Logger

	lastPass  time.Time
	lastBlob  time.Time
	loadedCkp bool
	refs      map[string][][32]byte // blob references, by SST id

	mu    sync.Mutex
	total GCStats
}

// maxCASAttempts bounds the compare-and-swap retries of one update of the GC state.
const maxCASAttempts = 16

// due reports whether a pass is due: GCInterval since the last one.
func (g *collector) due() bool {
	return g.lastPass.IsZero() || g.clock().Sub(g.lastPass) >= g.opts.interval
}

func (g *collector) stats() GCStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// loadMarks returns the marks and their CAS state. Damaged marks are set aside and
// replaced with empty ones (see loadGCState): what they held is lost, and the pass that
// follows marks every SST out of the manifest anew, stamped with its own time.
func (g *collector) loadMarks(ctx context.Context) (gcMarks, string, bool, error) {
	marks, tok, exists, err := loadGCState(ctx, g.repairer(), manifest.GCMarksKey,
		g.marks.LoadPendingDeleteMarks, g.marks.StorePendingDeleteMarks, decodeGCMarks,
		func() []byte { return encodeGCMarks(gcMarks{}) },
		"every SST out of the manifest is marked again and deleted a full grace period from now")
	if err != nil {
		return nil, "", false, fmt.Errorf("isledb: gc: %w", err)
	}
	if !exists {
		marks = gcMarks{}
	}
	return marks, tok, exists, nil
}

// repairer returns what loadGCState needs to set damaged state aside.
func (g *collector) repairer() gcRepair {
	return gcRepair{store: g.store, logger: g.logger, now: g.clock}
}

// updateMarks applies fn to the marks and stores them, retrying on a conflict. fn reports
// whether it changed anything; it may run several times.
func (g *collector) updateMarks(ctx context.Context, fn func(gcMarks) bool) error {
	for range maxCASAttempts {
		marks, tok, exists, err := g.loadMarks(ctx)
		if err != nil {
			return err
		}
		if !fn(marks) {
			return nil
		}
		err = g.marks.StorePendingDeleteMarks(ctx, encodeGCMarks(marks), tok, exists)
		if !errors.Is(err, manifest.ErrConflict) {
			if err != nil {
				return fmt.Errorf("isledb: gc: store marks: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("isledb: gc: store marks: %w: gave up after %d attempts", manifest.ErrConflict, maxCASAttempts)
}

// addIntents marks ssts as about to be removed from the manifest by a compaction of this
// compactor's epoch. It must succeed before the compaction's manifest entry is appended.
func (g *collector) addIntents(ctx context.Context, ssts []manifest.SSTMeta) error {
	return g.updateMarks(ctx, func(marks gcMarks) bool {
		for _, s := range ssts {
			f := uint8(markRefsKnown)
			if s.HasBlobRefs {
				f |= markBlobRefs
			}
			marks[s.ID] = gcMark{epoch: g.epoch, flags: f, size: s.Size}
		}
		return len(ssts) > 0
	})
}

// pass runs one GC pass (see the comment at the top of the file).
func (g *collector) pass(ctx context.Context) (GCStats, error) {
	st := GCStats{Passes: 1}
	var (
		m    *manifest.Manifest
		objs map[string]blobstore.ObjectInfo
		done gcMarks
	)
	stored := false
	for range maxCASAttempts {
		marks, tok, exists, err := g.loadMarks(ctx)
		if err != nil {
			return st, err
		}
		if m, err = g.latest(ctx); err != nil {
			return st, err
		}
		if objs, err = g.listSSTs(ctx); err != nil {
			return st, err
		}
		now := g.clock()
		live := make(map[string]struct{}, len(objs))
		for _, id := range m.AllSSTIDs() {
			live[id] = struct{}{}
		}
		changed := false
		var del []string
		for id, mk := range marks {
			_, isLive := live[id]
			obj, inBucket := objs[id]
			switch {
			case isLive:
				if mk.removedAt == 0 && mk.epoch > g.epoch {
					continue // a newer compactor's compaction in flight
				}
				delete(marks, id) // its compaction failed, or an orphan that was a flush in flight
				changed = true
			case !inBucket:
				delete(marks, id)
				changed = true
			case mk.flags&markOrphan != 0 && flushInFlight(id, m):
				// Marked as an orphan before its writer took the role (or before the
				// manifest showed it): it is a flush in flight of the current writer.
				delete(marks, id)
				changed = true
			case mk.removedAt == 0:
				mk.removedAt = now.UnixNano()
				marks[id] = mk
				changed = true
			case now.Sub(time.Unix(0, mk.removedAt)) >= g.opts.grace && now.Sub(obj.ModTime) >= g.opts.grace:
				del = append(del, id)
			}
		}
		for id, obj := range objs {
			if _, ok := live[id]; ok {
				continue
			}
			if _, ok := marks[id]; ok || flushInFlight(id, m) {
				continue
			}
			marks[id] = gcMark{removedAt: now.UnixNano(), flags: markOrphan, size: obj.Size}
			st.OrphansFound++
			changed = true
		}
		slices.Sort(del)
		deleted, err := g.deleteSSTs(ctx, del)
		for _, id := range deleted {
			delete(marks, id)
			st.SSTsDeleted++
			st.SSTBytesDeleted += objs[id].Size
			delete(objs, id)
			changed = true
		}
		st.Pending = len(marks)
		if err != nil {
			if changed {
				_ = g.marks.StorePendingDeleteMarks(ctx, encodeGCMarks(marks), tok, exists)
			}
			return st, err
		}
		if changed {
			err := g.marks.StorePendingDeleteMarks(ctx, encodeGCMarks(marks), tok, exists)
			if errors.Is(err, manifest.ErrConflict) {
				st.OrphansFound = 0 // counted again on the next attempt
				continue
			}
			if err != nil {
				return st, fmt.Errorf("isledb: gc: store marks: %w", err)
			}
		}
		done, stored = marks, true
		break
	}
	if !stored {
		return st, fmt.Errorf("isledb: gc: store marks: %w: gave up after %d attempts", manifest.ErrConflict, maxCASAttempts)
	}
	g.lastPass = g.clock()
	if err := g.walPass(ctx, &st); err != nil {
		g.record(st)
		return st, err
	}
	if err := g.blobPass(ctx, m, objs, done, &st); err != nil {
		g.record(st)
		return st, err
	}
	g.record(st)
	return st, nil
}

func (g *collector) record(st GCStats) {
	g.mu.Lock()
	g.total.add(st)
	g.mu.Unlock()
}

// listSSTs lists the SST objects, by id.
func (g *collector) listSSTs(ctx context.Context) (map[string]blobstore.ObjectInfo, error) {
	list, err := g.store.ListSSTFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("isledb: gc: list ssts: %w", err)
	}
	objs := make(map[string]blobstore.ObjectInfo, len(list))
	for _, o := range list {
		if id, ok := base.SSTIDOfKey(o.Key); ok {
			objs[id] = o
		}
	}
	return objs, nil
}

// deleteSSTs deletes the objects of ids and returns the ids deleted.
func (g *collector) deleteSSTs(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = g.store.SSTPath(id)
	}
	err := g.store.BatchDelete(ctx, keys)
	var be *blobstore.BatchDeleteError
	if err != nil && !errors.As(err, &be) {
		return nil, fmt.Errorf("isledb: gc: delete ssts: %w", err)
	}
	var deleted []string
	for i, id := range ids {
		if be == nil || be.Failed[keys[i]] == nil {
			deleted = append(deleted, id)
		}
	}
	if err != nil {
		return deleted, fmt.Errorf("isledb: gc: delete ssts: %w", err)
	}
	return deleted, nil
}

// flushInFlight reports whether id may be a flush of the current writer not yet in the
// manifest: its epoch is the writer fence's and its largest sequence number is above the
// manifest's (the writer retries a failed flush under the same id).
func flushInFlight(id string, m *manifest.Manifest) bool {
	epoch, seqHi, ok := base.ParseSSTID(id)
	if !ok {
		return false
	}
	return m.WriterFence != nil && epoch == m.WriterFence.Epoch && seqHi > m.MaxSeqNum()
}

// The pending delete marks, "gc/marks" (version 1, frozen):
//
//	+--------+---------+-----------+------------------+-----------------+
//	| "IGCM" | version | count     | count × mark     | CRC-32C (LE)    |
//	| 4 B    | 1 B = 1 | uvarint   |                  | 4 B, of all     |
//	|        |         |           |                  | bytes before it |
//	+--------+---------+-----------+------------------+-----------------+
//
//	mark:
//	+---------+--------+-----------+---------+-------+---------+
//	| id len  | id     | removedAt | epoch   | flags | size    |
//	| uvarint | bytes  | varint    | uvarint | 1 B   | uvarint |
//	+---------+--------+-----------+---------+-------+---------+
//
// Marks are sorted by id, ids unique. removedAt is when a GC pass first saw the SST out of
// the manifest, in unix nanoseconds; 0 marks an intent (a compaction of compactor epoch
// `epoch` is about to remove the SST). flags: bit 0 the SST holds blob references, bit 1
// bit 0 is known (from the manifest), bit 2 the SST was found in no manifest (orphan).
const (
	gcMarksMagic   = "IGCM"
	gcMarksVersion = 1

	markBlobRefs  = 1 << 0
	markRefsKnown = 1 << 1
	markOrphan    = 1 << 2
)

type gcMark struct {
	removedAt int64
	epoch     uint64
	flags     uint8
	size      int64
}

type gcMarks map[string]gcMark

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func encodeGCMarks(marks gcMarks) []byte {
	b := append([]byte(gcMarksMagic), gcMarksVersion)
	b = binary.AppendUvarint(b, uint64(len(marks)))
	for _, id := range slices.Sorted(maps.Keys(marks)) {
		mk := marks[id]
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		b = binary.AppendVarint(b, mk.removedAt)
		b = binary.AppendUvarint(b, mk.epoch)
		b = append(b, mk.flags)
		b = binary.AppendUvarint(b, uint64(mk.size))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// gcDecoder reads fields, remembering the first error.
type gcDecoder struct {
	object string
	b      []byte
	off    int
	err    error
}

func (d *gcDecoder) fail(what string) {
	if d.err == nil {
		d.err = base.CorruptionErrorf(d.object, int64(d.off), "bad %s", what)
	}
}

func (d *gcDecoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

func (d *gcDecoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

func (d *gcDecoder) bytes(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail(what)
		return nil
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

// Damaged GC state.
//
// A GC state object (gc/marks, gc/checkpoint) that fails its checks — wrong magic, too
// short, a checksum mismatch, or bytes that do not decode under a sound checksum — is
// damaged: its content is lost. Whoever loads it (a GC pass, a compaction recording its
// intents, a writer claiming its blobs) copies the bytes aside to
// "<key>.damaged-<unix nanoseconds>-<8 hex digits>" in the bucket for operators, replaces
// the object by compare-and-swap against the damaged version with a fresh, empty state,
// logs a warning, and loads again. Two processes racing the repair are serialized by the
// CAS: the loser reloads the winner's state (there may be two copies aside). A fenced
// compactor may repair too (it loads the marks before it checks the fence): replacing
// bytes that hold nothing readable loses nothing, and the CAS never replaces a sound
// version. Only damage is replaced: an object of a version this release does not read
// (with a sound checksum) was written by a newer release and is left alone
// (errGCStateVersion; the load fails as before).
//
// Starting from an empty state is safe because losing GC state only ever delays
// deletions:
//
//   - gc/marks: lost intents and removal stamps are taken again. The next pass finds every
//     SST object out of the manifest unmarked and marks it as an orphan stamped with its
//     own time, so it is deleted a full GCGracePeriod after the repair, never earlier.
//   - gc/checkpoint: lost candidates and doomed blobs restart the blob GC cycle from
//     scratch (nothing is doomed; a blob is deleted only after being marked, stamped and
//     found unreferenced again MinAge later). blobsDeleted restarts at a random value
//     with the top bit set, so a writer that read the count before the damage (W0) sees
//     it change and checks every blob of its flush (W3); a writer that was waiting on a
//     doomed blob stops waiting and, having seen it doomed, checks it and puts it back if
//     the sweep deleted it. What the repair cannot restore is the writers' knowledge
//     that a sweep is deleting right now: damage that strikes while a sweep's delete
//     is in flight could let a writer check a blob just before that delete lands. A
//     sweep that finds, after its deletes, the state no longer holding them logs it.

// errGCStateVersion marks a GC state object of a version this release does not read.
var errGCStateVersion = errors.New("unsupported GC state version (written by a newer release?)")

// gcRepair is what repairing damaged GC state needs: the bucket for the copy set aside,
// the logger for the warning, and a clock for the copy's name.
type gcRepair struct {
	store  *blobstore.Store
	logger *slog.Logger
	now    func() time.Time
}

// damagedGCStateSuffix separates a GC state object's key from the time in the name of a
// damaged copy set aside.
const damagedGCStateSuffix = ".damaged-"

// setAside copies the damaged bytes of key to a new object and returns its key.
func (r gcRepair) setAside(ctx context.Context, key string, data []byte) (string, error) {
	aside := fmt.Sprintf("%s%s%d-%08x", key, damagedGCStateSuffix, r.now().UnixNano(), rand.Uint32())
	if _, err := r.store.Write(ctx, aside, data); err != nil {
		return "", fmt.Errorf("set aside damaged %s as %s: %w", key, aside, err)
	}
	return aside, nil
}

// loadGCState loads the GC state object key with load and decodes it. It returns the value,
// the match token and whether the object exists (if not, the zero T). A damaged object is
// set aside, replaced with fresh() by compare-and-swap through store, and loaded again
// (see "Damaged GC state"); lost says, for the warning, what the repair means.
func loadGCState[T any](ctx context.Context, r gcRepair, key string,
	load func(context.Context) ([]byte, string, bool, error),
	store func(context.Context, []byte, string, bool) error,
	decode func([]byte) (T, error), fresh func() []byte, lost string,
) (T, string, bool, error) {
	var zero T
	for range maxCASAttempts {
		data, tok, exists, err := load(ctx)
		if err != nil {
			return zero, "", false, fmt.Errorf("load %s: %w", key, err)
		}
		if !exists {
			return zero, "", false, nil
		}
		v, derr := decode(data)
		if derr == nil {
			return v, tok, true, nil
		}
		if errors.Is(derr, errGCStateVersion) || !errors.Is(derr, base.ErrCorruption) {
			return zero, "", false, derr
		}
		aside, err := r.setAside(ctx, key, data)
		if err != nil {
			return zero, "", false, fmt.Errorf("%w (%w)", err, derr)
		}
		err = store(ctx, fresh(), tok, true)
		if errors.Is(err, manifest.ErrConflict) {
			continue // replaced meanwhile (another repair, or an update): load that
		}
		if err != nil {
			return zero, "", false, fmt.Errorf("replace damaged %s: %w (%w)", key, err, derr)
		}
		r.logger.Warn("isledb: damaged GC state set aside and rebuilt", "object", key,
			"copy", aside, "err", derr, "effect", lost)
	}
	return zero, "", false, fmt.Errorf("repair %s: %w: gave up after %d attempts", key, manifest.ErrConflict, maxCASAttempts)
}

// openGCObject checks magic, version and CRC, and returns a decoder positioned after the version.
func openGCObject(object string, data []byte, magic string, version byte) (*gcDecoder, error) {
	if len(data) < len(magic)+1+4 || string(data[:len(magic)]) != magic {
		return nil, base.CorruptionErrorf(object, 0, "not a GC state object (bad magic or too short)")
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, base.CorruptionErrorf(object, int64(len(body)), "checksum mismatch")
	}
	if data[len(magic)] != version {
		return nil, &base.CorruptionError{Object: object, Offset: int64(len(magic)),
			Reason: fmt.Sprintf("version %d", data[len(magic)]), Err: errGCStateVersion}
	}
	return &gcDecoder{object: object, b: body, off: len(magic) + 1}, nil
}

func decodeGCMarks(data []byte) (gcMarks, error) {
	d, err := openGCObject(manifest.GCMarksKey, data, gcMarksMagic, gcMarksVersion)
	if err != nil {
		return nil, err
	}
	n := d.uvarint("count")
	if n > uint64(len(data)) {
		d.fail("count")
	}
	marks := make(gcMarks, min(n, 1<<16))
	for i := uint64(0); i < n && d.err == nil; i++ {
		id := string(d.bytes(d.uvarint("id length"), "id"))
		var mk gcMark
		mk.removedAt = d.varint("removal time")
		mk.epoch = d.uvarint("epoch")
		if f := d.bytes(1, "flags"); f != nil {
			mk.flags = f[0]
		}
		size := d.uvarint("size")
		if d.err != nil {
			break
		}
		if _, dup := marks[id]; dup || id == "" || size > 1<<62 || mk.removedAt < 0 {
			d.fail("mark " + strconv.Quote(id))
			break
		}
		mk.size = int64(size)
		marks[id] = mk
	}
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return marks, nil
}
