package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/isledb/isledb/manifest"
)

func init() {
	register(verb{name: "manifest", args: "[-json]", summary: "print the manifest: log position, writer and compactor epochs, L0 and sorted runs with sizes, key and sequence ranges", run: runManifest})
}

func runManifest(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("manifest")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := replay(ctx, s)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(manifestJSON(m))
	}
	now := time.Now()
	w := c.stdout
	fmt.Fprintf(w, "manifest: version %d, log position %d, next epoch %d, largest seq %d\n", m.Version, m.LogSeq, m.NextEpoch, m.MaxSeqNum())
	fmt.Fprintf(w, "writer:    %s\n", fence(m.WriterFence, now))
	fmt.Fprintf(w, "compactor: %s\n", fence(m.CompactorFence, now))
	var l0 int64
	for _, s := range m.L0SSTs {
		l0 += s.Size
	}
	fmt.Fprintf(w, "L0: %d SSTs, %s\n", len(m.L0SSTs), size(l0))
	for _, r := range m.SortedRuns {
		var b int64
		for _, s := range r.SSTs {
			b += s.Size
		}
		fmt.Fprintf(w, "run %d: %d SSTs, %s\n", r.ID, len(r.SSTs), size(b))
	}
	fmt.Fprintln(w)
	writeSSTTable(w, m, now)
	return nil
}

func fence(f *manifest.FenceToken, now time.Time) string {
	if f == nil {
		return "none"
	}
	return fmt.Sprintf("epoch %d, owner %q, claimed %s (%s)", f.Epoch, f.Owner, f.ClaimedAt.UTC().Format(time.RFC3339), age(now, f.ClaimedAt))
}

// The JSON form of the manifest (keys as text and as hex, since keys are bytes).
type (
	jsonManifest struct {
		Version    int        `json:"version"`
		LogSeq     uint64     `json:"log_seq"`
		NextEpoch  uint64     `json:"next_epoch"`
		MaxSeq     uint64     `json:"max_seq"`
		Writer     *jsonFence `json:"writer_fence"`
		Compactor  *jsonFence `json:"compactor_fence"`
		L0         []jsonSST  `json:"l0"`
		SortedRuns []jsonRun  `json:"sorted_runs"`
	}
	jsonFence struct {
		Epoch     uint64    `json:"epoch"`
		Owner     string    `json:"owner"`
		ClaimedAt time.Time `json:"claimed_at"`
	}
	jsonRun struct {
		ID   uint32    `json:"id"`
		SSTs []jsonSST `json:"ssts"`
	}
	jsonSST struct {
		ID         string    `json:"id"`
		Level      int       `json:"level"`
		Epoch      uint64    `json:"epoch"`
		Size       int64     `json:"size"`
		Entries    uint64    `json:"entries"`
		Tombstones uint64    `json:"tombstones"`
		SeqLo      uint64    `json:"seq_lo"`
		SeqHi      uint64    `json:"seq_hi"`
		MinKey     string    `json:"min_key"`
		MaxKey     string    `json:"max_key"`
		MinKeyHex  string    `json:"min_key_hex"`
		MaxKeyHex  string    `json:"max_key_hex"`
		Checksum   string    `json:"checksum"`
		Signed     bool      `json:"signed"`
		BlobRefs   bool      `json:"has_blob_refs"`
		CreatedAt  time.Time `json:"created_at"`
	}
)

func manifestJSON(m *manifest.Manifest) jsonManifest {
	fj := func(f *manifest.FenceToken) *jsonFence {
		if f == nil {
			return nil
		}
		return &jsonFence{f.Epoch, f.Owner, f.ClaimedAt}
	}
	sj := func(s manifest.SSTMeta) jsonSST {
		return jsonSST{ID: s.ID, Level: s.Level, Epoch: s.Epoch, Size: s.Size, Entries: s.EntryCount, Tombstones: s.TombstoneCount,
			SeqLo: s.SeqLo, SeqHi: s.SeqHi, MinKey: string(s.MinKey), MaxKey: string(s.MaxKey),
			MinKeyHex: hex.EncodeToString(s.MinKey), MaxKeyHex: hex.EncodeToString(s.MaxKey),
			Checksum: s.Checksum, Signed: s.Signature != nil, BlobRefs: s.HasBlobRefs, CreatedAt: s.CreatedAt}
	}
	out := jsonManifest{Version: m.Version, LogSeq: m.LogSeq, NextEpoch: m.NextEpoch, MaxSeq: m.MaxSeqNum(),
		Writer: fj(m.WriterFence), Compactor: fj(m.CompactorFence), L0: []jsonSST{}, SortedRuns: []jsonRun{}}
	for _, s := range m.L0SSTs {
		out.L0 = append(out.L0, sj(s))
	}
	for _, r := range m.SortedRuns {
		jr := jsonRun{ID: r.ID, SSTs: []jsonSST{}}
		for _, s := range r.SSTs {
			jr.SSTs = append(jr.SSTs, sj(s))
		}
		out.SortedRuns = append(out.SortedRuns, jr)
	}
	return out
}
