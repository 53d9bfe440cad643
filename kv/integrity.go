package kv

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// IntegrityReport is what ValidateIntegrity checked and what it found damaged.
type IntegrityReport struct {
	// ManifestOK reports that the manifest replayed and passed its structural check.
	ManifestOK bool
	// SSTsChecked counts the SSTs read end to end (every block, checksum and the
	// whole-file SHA-256 against the manifest).
	SSTsChecked int
	// WALRecords counts the writes in the write-ahead log read back and decoded (each
	// write of a batch counted).
	WALRecords int
	// Damaged lists each damaged object: the manifest, an SST or the WAL.
	Damaged []DamagedObject
}

// DamagedObject names one damaged object and what is wrong with it.
type DamagedObject struct {
	// Kind is "manifest", "sst" or "wal".
	Kind string
	// Name is the object: the SST's id, the WAL directory, or the manifest's storage.
	Name string
	// Err says what is wrong; it matches ErrCorruptedData (and ErrChecksumMismatch for a
	// checksum failure), or wraps an I/O error (a missing SST, for one).
	Err error
}

// IntegrityError is ValidateIntegrity's error: every damaged object. It matches
// ErrCorruptedData.
type IntegrityError struct{ Damaged []DamagedObject }

// Error lists the damaged objects.
func (e *IntegrityError) Error() string {
	parts := make([]string, len(e.Damaged))
	for i, d := range e.Damaged {
		parts[i] = fmt.Sprintf("%s %s: %v", d.Kind, d.Name, d.Err)
	}
	return fmt.Sprintf("kv: integrity: %d damaged: %s", len(e.Damaged), strings.Join(parts, "; "))
}

// Is makes an *IntegrityError match ErrCorruptedData.
func (e *IntegrityError) Is(target error) bool { return target == ErrCorruptedData }

// Unwrap returns the damaged objects' errors.
func (e *IntegrityError) Unwrap() []error {
	out := make([]error, len(e.Damaged))
	for i, d := range e.Damaged {
		out[i] = d.Err
	}
	return out
}

// ValidateIntegrity checks everything the store holds on disk: it replays the manifest
// from its files and checks its structure; reads every SST the manifest names in full,
// checking every block's checksum, the order of its entries, its filter and its
// properties, and its SHA-256 against the manifest's; and reads back every record of the
// write-ahead log. It reads every byte once, so it costs a full scan of the data. It
// returns what it checked, and an *IntegrityError (matching ErrCorruptedData) naming every
// damaged object; it stops at nothing but a closed store. Writes and reads may run
// meanwhile. Blob values (large values in blob objects) are checked by their SHA-256 when
// read, not here.
func (s *Store) ValidateIntegrity() (IntegrityReport, error) {
	var rep IntegrityReport
	if err := s.enter(); err != nil {
		return rep, err
	}
	defer s.leave()
	ctx := context.Background()
	damaged := func(kind, name string, err error) {
		rep.Damaged = append(rep.Damaged, DamagedObject{Kind: kind, Name: name, Err: translate("check", err)})
	}
	// A replay of its own, not the reader's cached version: the check reads the files.
	m, err := manifest.NewStore(s.bucket).Replay(ctx)
	if err == nil {
		err = m.Check()
	}
	if err != nil {
		damaged("manifest", dataDir, err)
	} else {
		rep.ManifestOK = true
		for _, id := range m.AllSSTIDs() {
			meta := m.LookupSST(id)
			if err := s.verifySST(ctx, meta); err != nil {
				damaged("sst", id, err)
				continue
			}
			rep.SSTsChecked++
		}
	}
	n, err := s.w.VerifyWAL()
	rep.WALRecords = n
	if err != nil {
		damaged("wal", walDir, err)
	}
	if len(rep.Damaged) > 0 {
		return rep, &IntegrityError{Damaged: rep.Damaged}
	}
	return rep, nil
}

// errSSTMismatch marks an SST whose content is intact but not the one the manifest
// recorded (its SHA-256 or size differs).
var errSSTMismatch = errors.New("sst does not match the manifest")

// verifySST reads one SST whole and checks it.
func (s *Store) verifySST(ctx context.Context, meta *manifest.SSTMeta) error {
	data, _, err := s.bucket.Read(ctx, s.bucket.SSTPath(meta.ID))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	md, err := sstable.VerifyFile(ctx, sstable.BytesSource(data), sstable.ReaderOptions{Object: s.bucket.SSTPath(meta.ID)})
	if err != nil {
		return err
	}
	if got := sstable.ChecksumPrefix + hex.EncodeToString(md.SHA256[:]); got != meta.Checksum || int64(len(data)) != meta.Size {
		return fmt.Errorf("%w: %w: %w: checksum mismatch: %s (%d B), the manifest has %s (%d B)",
			ErrCorruptedData, ErrChecksumMismatch, errSSTMismatch, got, len(data), meta.Checksum, meta.Size)
	}
	return nil
}
