package gc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/manifest"
)

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
// (ErrStateVersion; the load fails as before).
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

// ErrStateVersion marks a GC state object of a version this release does not read.
var ErrStateVersion = errors.New("unsupported GC state version (written by a newer release?)")

// maxCASAttempts bounds the compare-and-swap retries of one update of the GC state.
const maxCASAttempts = 16

// damagedSuffix separates a GC state object's key from the time in the name of a
// damaged copy set aside.
const damagedSuffix = ".damaged-"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// repair is what repairing damaged GC state needs: the bucket for the copy set aside,
// the logger for the warning, and a clock for the copy's name.
type repair struct {
	store  *blobstore.Store
	logger *slog.Logger
	now    func() time.Time
}

// setAside copies the damaged bytes of key to a new object and returns its key.
func (r repair) setAside(ctx context.Context, key string, data []byte) (string, error) {
	aside := fmt.Sprintf("%s%s%d-%08x", key, damagedSuffix, r.now().UnixNano(), rand.Uint32())
	if _, err := r.store.Write(ctx, aside, data); err != nil {
		return "", fmt.Errorf("set aside damaged %s as %s: %w", key, aside, err)
	}
	return aside, nil
}

// stateObject is one GC state object (gc/marks or gc/checkpoint): where it is stored,
// its codec, and what replaces it when it is damaged.
type stateObject[T any] struct {
	key   string // the object's key, for errors and the copy set aside
	name  string // "marks" or "checkpoint", for errors
	load  func(context.Context) ([]byte, string, bool, error)
	store func(context.Context, []byte, string, bool) error
	// decode and encode are the codec; empty is the value of an absent object.
	decode func([]byte) (T, error)
	encode func(T) []byte
	empty  func() T
	// fresh encodes the state that replaces a damaged object; lost says, for the
	// warning, what the repair means.
	fresh func() []byte
	lost  string
}

// get loads and decodes the object. It returns the value (empty() if the object does not
// exist), the match token and whether the object exists. A damaged object is set aside,
// replaced with fresh() by compare-and-swap, and loaded again (see "Damaged GC state").
func (o *stateObject[T]) get(ctx context.Context, r repair) (T, string, bool, error) {
	for range maxCASAttempts {
		data, tok, exists, err := o.load(ctx)
		if err != nil {
			return o.empty(), "", false, fmt.Errorf("load %s: %w", o.key, err)
		}
		if !exists {
			return o.empty(), "", false, nil
		}
		v, derr := o.decode(data)
		if derr == nil {
			return v, tok, true, nil
		}
		if errors.Is(derr, ErrStateVersion) || !errors.Is(derr, base.ErrCorruption) {
			return o.empty(), "", false, derr
		}
		aside, err := r.setAside(ctx, o.key, data)
		if err != nil {
			return o.empty(), "", false, fmt.Errorf("%w (%w)", err, derr)
		}
		err = o.store(ctx, o.fresh(), tok, true)
		if errors.Is(err, manifest.ErrConflict) {
			continue // replaced meanwhile (another repair, or an update): load that
		}
		if err != nil {
			return o.empty(), "", false, fmt.Errorf("replace damaged %s: %w (%w)", o.key, err, derr)
		}
		r.logger.Warn("isledb: damaged GC state set aside and rebuilt", "object", o.key,
			"copy", aside, "err", derr, "effect", o.lost)
	}
	return o.empty(), "", false, fmt.Errorf("repair %s: %w: gave up after %d attempts", o.key, manifest.ErrConflict, maxCASAttempts)
}

// update is the one load-modify-store loop of the GC state: it loads the object (get),
// applies fn and, if fn reports a change, stores the result by compare-and-swap against
// the version loaded; on a conflict it starts over, loading again. fn may run several
// times, and must derive everything it changes from the value it is given. If fn fails,
// update stores what fn changed once, best effort, and returns fn's error.
func update[T any](ctx context.Context, o *stateObject[T], r repair, fn func(T) (bool, error)) error {
	for range maxCASAttempts {
		v, tok, exists, err := o.get(ctx, r)
		if err != nil {
			return err
		}
		changed, ferr := fn(v)
		if ferr != nil {
			if changed {
				_ = o.store(ctx, o.encode(v), tok, exists)
			}
			return ferr
		}
		if !changed {
			return nil
		}
		err = o.store(ctx, o.encode(v), tok, exists)
		if errors.Is(err, manifest.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store %s: %w", o.name, err)
		}
		return nil
	}
	return fmt.Errorf("store %s: %w: gave up after %d attempts", o.name, manifest.ErrConflict, maxCASAttempts)
}

// decoder reads the fields of a GC state object, remembering the first error.
type decoder struct {
	object string
	b      []byte
	off    int
	err    error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = base.CorruptionErrorf(d.object, int64(d.off), "bad %s", what)
	}
}

func (d *decoder) uvarint(what string) uint64 {
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

func (d *decoder) varint(what string) int64 {
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

func (d *decoder) bytes(n uint64, what string) []byte {
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

// openObject checks magic, version and CRC, and returns a decoder positioned after the
// version.
func openObject(object string, data []byte, magic string, version byte) (*decoder, error) {
	if len(data) < len(magic)+1+4 || string(data[:len(magic)]) != magic {
		return nil, base.CorruptionErrorf(object, 0, "not a GC state object (bad magic or too short)")
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, base.CorruptionErrorf(object, int64(len(body)), "checksum mismatch")
	}
	if data[len(magic)] != version {
		return nil, &base.CorruptionError{Object: object, Offset: int64(len(magic)),
			Reason: fmt.Sprintf("version %d", data[len(magic)]), Err: ErrStateVersion}
	}
	return &decoder{object: object, b: body, off: len(magic) + 1}, nil
}

// appendCRC appends the CRC-32C of b that ends every GC state object.
func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}
