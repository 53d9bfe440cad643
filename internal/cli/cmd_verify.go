package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
	"github.com/isledb/isledb/sstsign"
)

func init() {
	register(verb{name: "verify", args: "[-key ID=HEX]... [-blobs=false] [-strict] [-q]",
		summary: "check the manifest log and snapshots, every SST of the manifest whole (checksums, signatures with -key), and every blob SSTs reference; report damage and orphans (exit status 3 on damage)", run: runVerify})
}

// verifier collects what verify finds.
type verifyReport struct {
	damage  []string
	orphans []string
	notes   []string
}

func (r *verifyReport) damaged(format string, args ...any) {
	r.damage = append(r.damage, fmt.Sprintf(format, args...))
}

func runVerify(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("verify")
	keys := map[string]ed25519.PublicKey{}
	fs.Func("key", "a signing key `ID=HEX` (the ed25519 public key in hex) to check SST signatures with; repeat for several; unsigned SSTs are then damage", func(v string) error {
		id, h, ok := strings.Cut(v, "=")
		if !ok || id == "" {
			return errors.New("want ID=HEX")
		}
		pub, err := hex.DecodeString(h)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("key %q: want %d bytes in hex", id, ed25519.PublicKeySize)
		}
		keys[id] = pub
		return nil
	})
	blobs := fs.Bool("blobs", true, "read every referenced blob and check its SHA-256 (false: only check that it exists)")
	strict := fs.Bool("strict", false, "count orphans (objects no manifest names) as damage")
	quiet := fs.Bool("q", false, "print only problems and the summary")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rep := &verifyReport{}
	logs, snaps, err := verifyManifestObjects(ctx, s, rep)
	if err != nil {
		return err
	}
	m, err := replay(ctx, s)
	if err != nil {
		rep.damaged("manifest: %v", err)
		m = nil
	} else if err := m.Check(); err != nil {
		rep.damaged("manifest: %v", err)
	}
	sstObjs, err := listIDs(ctx, s, base.SSTDir, base.SSTIDOfKey)
	if err != nil {
		return err
	}
	blobObjs, err := listIDs(ctx, s, base.BlobDir, base.BlobIDOfKey)
	if err != nil {
		return err
	}
	var live []manifest.SSTMeta
	if m != nil {
		live = m.CopySSTs()
	}
	refs := map[string]blobUse{}
	var prog *Progress
	if c.env.Terminal {
		prog = NewProgress(c.stderr, "verify", len(live))
	}
	var sstBytes int64
	for i, meta := range live {
		verifySST(ctx, s, meta, sstObjs, keys, refs, rep)
		sstBytes += meta.Size
		if prog != nil {
			prog.Update(i + 1)
		}
	}
	refIDs := make([]string, 0, len(refs))
	for id := range refs {
		refIDs = append(refIDs, id)
	}
	sort.Strings(refIDs)
	if c.env.Terminal && len(refIDs) > 0 {
		prog = NewProgress(c.stderr, "blobs", len(refIDs))
	}
	for i, id := range refIDs {
		u := refs[id]
		if _, ok := blobObjs[id]; !ok {
			rep.damaged("blob %s: missing (referenced by sst %s, key %s)", id, u.sst, show(u.key))
		} else if *blobs {
			data, _, err := s.Read(ctx, s.BlobPath(id))
			if err != nil {
				rep.damaged("blob %s: %v", id, err)
			} else if err := u.ref.Verify(data); err != nil {
				rep.damaged("blob %s (referenced by sst %s, key %s): %v", id, u.sst, show(u.key), err)
			}
		}
		if prog != nil {
			prog.Update(i + 1)
		}
	}
	if m != nil {
		liveIDs := map[string]bool{}
		for _, meta := range live {
			liveIDs[meta.ID] = true
		}
		for _, id := range sortedKeys(sstObjs) {
			if !liveIDs[id] {
				o := sstObjs[id]
				rep.orphans = append(rep.orphans, fmt.Sprintf("sst %s: %s, written %s, in no current manifest (GC deletes it after its grace period unless it is a flush in flight)",
					id, size(o.Size), o.ModTime.UTC().Format("2006-01-02T15:04:05Z")))
			}
		}
		for _, id := range sortedKeys(blobObjs) {
			if _, ok := refs[id]; !ok {
				rep.orphans = append(rep.orphans, fmt.Sprintf("blob %s: %s, referenced by no SST of the manifest (blob GC deletes it, if enabled)", id, size(blobObjs[id].Size)))
			}
		}
	}
	w := c.stdout
	if !*quiet {
		fmt.Fprintf(w, "checked %d manifest log entries, %d snapshots, %d SSTs (%s), %d referenced blobs\n",
			logs, snaps, len(live), size(sstBytes), len(refIDs))
	}
	for _, d := range rep.damage {
		fmt.Fprintf(w, "DAMAGE %s\n", d)
	}
	for _, o := range rep.orphans {
		fmt.Fprintf(w, "ORPHAN %s\n", o)
	}
	fmt.Fprintf(w, "%d damaged, %d orphans\n", len(rep.damage), len(rep.orphans))
	if len(rep.damage) > 0 || (*strict && len(rep.orphans) > 0) {
		return withCode(ExitDamage, "found %d damaged and %d orphaned objects", len(rep.damage), len(rep.orphans))
	}
	return nil
}

// blobUse is a blob reference and the first SST entry found making it.
type blobUse struct {
	ref blobref.Ref
	sst string
	key []byte
}

// verifyManifestObjects decodes every manifest log entry and snapshot in the bucket.
func verifyManifestObjects(ctx context.Context, s *blobstore.Store, rep *verifyReport) (logs, snaps int, err error) {
	objs, err := s.ListAll(ctx, "manifest/")
	if err != nil {
		return 0, 0, err
	}
	for _, o := range objs {
		var decode func(string, []byte) error
		switch {
		case strings.HasPrefix(o.Key, "manifest/log/"):
			decode = func(k string, b []byte) error { _, err := manifest.DecodeLogEntry(k, b); return err }
			logs++
		case strings.HasPrefix(o.Key, "manifest/snapshot/"):
			decode = func(k string, b []byte) error { _, err := manifest.DecodeSnapshot(k, b); return err }
			snaps++
		default:
			continue
		}
		data, _, err := s.Read(ctx, o.Key)
		if errors.Is(err, blobstore.ErrNotFound) {
			continue // pruned since the listing
		}
		if err != nil {
			return logs, snaps, err
		}
		if err := decode(o.Key, data); err != nil {
			rep.damaged("%s: %v", o.Key, err)
		}
	}
	return logs, snaps, nil
}

// verifySST reads one SST of the manifest whole and checks it against its metadata.
func verifySST(ctx context.Context, s *blobstore.Store, meta manifest.SSTMeta, objs map[string]blobstore.ObjectInfo,
	keys map[string]ed25519.PublicKey, refs map[string]blobUse, rep *verifyReport) {
	key := s.SSTPath(meta.ID)
	if _, ok := objs[meta.ID]; !ok {
		rep.damaged("sst %s: missing from the bucket (%s), named by the manifest", meta.ID, key)
		return
	}
	data, _, err := s.Read(ctx, key)
	if err != nil {
		rep.damaged("sst %s: %v", meta.ID, err)
		return
	}
	if int64(len(data)) != meta.Size {
		rep.damaged("sst %s: %d bytes, the manifest says %d", meta.ID, len(data), meta.Size)
	}
	md, err := sstable.VerifyFile(ctx, sstable.BytesSource(data), sstable.ReaderOptions{Object: key})
	if err != nil {
		rep.damaged("sst %s: %v", meta.ID, err)
		return
	}
	if md.Checksum != meta.Checksum {
		rep.damaged("sst %s: SHA-256 %s, the manifest says %s", meta.ID, md.Checksum, meta.Checksum)
	}
	if !bytes.Equal(md.MinKey, meta.MinKey) || !bytes.Equal(md.MaxKey, meta.MaxKey) || uint64(md.SeqLo) != meta.SeqLo || uint64(md.SeqHi) != meta.SeqHi {
		rep.damaged("sst %s: holds keys %s..%s, seqs %d-%d; the manifest says %s..%s, %d-%d", meta.ID,
			show(md.MinKey), show(md.MaxKey), md.SeqLo, md.SeqHi, show(meta.MinKey), show(meta.MaxKey), meta.SeqLo, meta.SeqHi)
	}
	if len(keys) > 0 {
		if meta.Signature == nil {
			rep.damaged("sst %s: unsigned", meta.ID)
		} else if err := sstsign.NewEd25519Verifier(keys).VerifyHash(md.SHA256[:], *meta.Signature); err != nil {
			rep.damaged("sst %s: signature: %v", meta.ID, err)
		}
	}
	if !md.HasBlobRefs {
		return
	}
	r, err := sstable.OpenBytes(data, sstable.ReaderOptions{Object: key})
	if err != nil {
		rep.damaged("sst %s: %v", meta.ID, err)
		return
	}
	defer r.Close()
	it := r.NewIter(ctx, sstable.IterOptions{})
	for ok := it.First(); ok; ok = it.Next() {
		if it.Kind() != base.KindBlobRef {
			continue
		}
		ref, err := blobref.Decode(it.Value())
		if err != nil {
			rep.damaged("sst %s: key %s: %v", meta.ID, show(it.Key()), err)
			continue
		}
		if _, ok := refs[ref.ID()]; !ok {
			refs[ref.ID()] = blobUse{ref: ref, sst: meta.ID, key: bytes.Clone(it.Key())}
		}
	}
	if err := it.Close(); err != nil {
		rep.damaged("sst %s: %v", meta.ID, err)
	}
}

// listIDs lists the objects under dir by the id idOf finds in each key (keys it refuses are
// skipped).
func listIDs(ctx context.Context, s *blobstore.Store, dir string, idOf func(key string) (string, bool)) (map[string]blobstore.ObjectInfo, error) {
	objs, err := s.ListAll(ctx, dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]blobstore.ObjectInfo, len(objs))
	for _, o := range objs {
		if id, ok := idOf(o.Key); ok {
			out[id] = o
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
