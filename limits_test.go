package isledb_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/config"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/wal"
)

// limitsWriterOptions are the options of the limit tests: a WAL in dir, no timed flushes.
func limitsWriterOptions(dir string) isledb.WriterOptions {
	opts := isledb.DefaultWriterOptions()
	opts.WALDir = filepath.Join(dir, "wal")
	opts.FlushInterval = -1
	return opts
}

// TestLimitsUnstorableWriteRefused is the regression test of issue 13, item 1: options used
// to allow keys of up to 1 MiB though an SST holds at most 64 KiB, so a Put of a 100 KiB key
// was acknowledged (and logged), then every Flush and Close failed, the good writes of the
// same memtable never became visible, and reopening with the WAL failed for good. Now
// Validate refuses such options; with the widest options it accepts, the unstorable writes
// are refused before they are logged, with ErrKeyTooLarge, and every good write lands.
func TestLimitsUnstorableWriteRefused(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db := openTestDB(t, store)
		opts := limitsWriterOptions(t.TempDir())

		// The options a user could set before: refused now, naming the field.
		opts.ValueStorage.MaxKeySize = 1 << 20
		w, err := db.OpenWriter(ctx, opts)
		if err == nil {
			t.Errorf("OpenWriter accepted MaxKeySize %d, above the SST format's %d", opts.ValueStorage.MaxKeySize, config.KeySizeLimit)
		} else {
			if !errors.Is(err, isledb.ErrInvalidOptions) || !strings.Contains(err.Error(), "MaxKeySize") {
				t.Fatalf("OpenWriter with MaxKeySize 1 MiB: %v, want ErrInvalidOptions naming MaxKeySize", err)
			}
			// The widest options Validate accepts.
			opts.ValueStorage.MaxKeySize = config.KeySizeLimit
			if w, err = db.OpenWriter(ctx, opts); err != nil {
				t.Fatal(err)
			}
		}

		bad := bytes.Repeat([]byte("b"), 100<<10)
		var good [][]byte
		put := func(w *isledb.Writer) {
			t.Helper()
			k := fmt.Appendf(nil, "good-%02d", len(good))
			if err := w.Put(k, k); err != nil {
				t.Fatalf("Put %s: %v", k, err)
			}
			good = append(good, k)
		}
		refuse := func(w *isledb.Writer) {
			t.Helper()
			for name, do := range map[string]func() error{
				"Put":        func() error { return w.Put(bad, []byte("v")) },
				"PutWithTTL": func() error { return w.PutWithTTL(bad, []byte("v"), 1<<40) },
				"Delete":     func() error { return w.Delete(bad) },
			} {
				if err := do(); !errors.Is(err, isledb.ErrKeyTooLarge) {
					t.Errorf("%s of a %d-byte key: %v, want ErrKeyTooLarge", name, len(bad), err)
				}
			}
		}

		// Good and bad writes in one memtable, then Flush: the flush lands.
		put(w)
		refuse(w)
		put(w)
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("Flush after a refused write: %v", err)
		}
		put(w)
		refuse(w)
		put(w)
		if err := w.Close(); err != nil {
			t.Fatalf("Close after a refused write: %v", err)
		}

		// Reopen on the WAL; then a crash with good and refused writes unflushed: the
		// refused ones never reached the WAL, the good ones are replayed.
		if w, err = db.OpenWriter(ctx, opts); err != nil {
			t.Fatalf("reopen with the WAL: %v", err)
		}
		put(w)
		refuse(w)
		put(w)
		w.CrashForTest()
		if w, err = db.OpenWriter(ctx, opts); err != nil {
			t.Fatalf("reopen with the WAL after a crash: %v", err)
		}
		if st := w.WALReplayStats(); st.Replayed != 2 {
			t.Errorf("WAL replay after the crash: %v, want the 2 good writes replayed", st)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		got := readAll(t, store, append(append([][]byte(nil), good...), bad))
		for i, k := range good {
			if !bytes.Equal(got[i], k) {
				t.Errorf("good write %s reads %q", k, got[i])
			}
		}
		if got[len(good)] != nil {
			t.Errorf("the refused key reads %q", got[len(good)])
		}
	})
}

// TestLimitsKeyAtLimit: a key of exactly config.KeySizeLimit bytes is written, logged,
// flushed, replayed and read; one byte more is refused.
func TestLimitsKeyAtLimit(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db := openTestDB(t, store)
		opts := limitsWriterOptions(t.TempDir())
		opts.ValueStorage.MaxKeySize = config.KeySizeLimit
		w, err := db.OpenWriter(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		flushed := bytes.Repeat([]byte("f"), config.KeySizeLimit)
		replayed := bytes.Repeat([]byte("r"), config.KeySizeLimit)
		deleted := bytes.Repeat([]byte("d"), config.KeySizeLimit)
		if err := w.Put(flushed, []byte("flushed")); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(deleted, []byte("deleted")); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(append(flushed, 'x'), nil); !errors.Is(err, isledb.ErrKeyTooLarge) {
			t.Errorf("Put of a %d-byte key: %v, want ErrKeyTooLarge", config.KeySizeLimit+1, err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.Delete(deleted); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(replayed, []byte("replayed")); err != nil {
			t.Fatal(err)
		}
		w.CrashForTest()
		if w, err = db.OpenWriter(ctx, opts); err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if st := w.WALReplayStats(); st.Replayed != 2 {
			t.Errorf("replay: %v, want 2 replayed", st)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, store, [][]byte{flushed, replayed, deleted})
		if string(got[0]) != "flushed" || string(got[1]) != "replayed" || got[2] != nil {
			t.Fatalf("read %q, %q, %q; want flushed, replayed, not found", got[0], got[1], got[2])
		}
	})
}

// TestLimitsValidate: WriterOptions.Validate refuses value and key limits the formats
// cannot store and accepts those at the boundary (checked without writing such values).
func TestLimitsValidate(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, blobstore.NewMemory("db"))
	walDir := t.TempDir()
	cases := []struct {
		name          string
		wal           bool
		key           int
		threshold     int
		value         int64
		ok            bool
		field, reason string
	}{
		{name: "key at limit", key: config.KeySizeLimit, ok: true},
		{name: "key above limit", key: config.KeySizeLimit + 1, field: "MaxKeySize"},
		{name: "no blobs, values at the inline limit", threshold: -1, value: config.InlineValueSizeLimit, ok: true},
		{name: "no blobs, values above the inline limit", threshold: -1, value: config.InlineValueSizeLimit + 1, field: "MaxValueSize", reason: "inline"},
		{name: "threshold just above the inline limit", threshold: config.InlineValueSizeLimit + 1, value: 1 << 30, ok: true},
		{name: "threshold leaves large values inline", threshold: config.InlineValueSizeLimit + 2, value: 1 << 30, field: "MaxValueSize", reason: "inline"},
		{name: "blobs up to the value limit", value: config.ValueSizeLimit, ok: true},
		{name: "above the value limit", value: config.ValueSizeLimit + 1, field: "MaxValueSize"},
		{name: "WAL at its limit", wal: true, value: isledb.MaxValueSizeWithWAL, ok: true},
		{name: "WAL above its limit", wal: true, value: isledb.MaxValueSizeWithWAL + 1, field: "MaxValueSize", reason: "WAL"},
	}
	for _, c := range cases {
		opts := isledb.DefaultWriterOptions()
		opts.FlushInterval = -1
		if c.wal {
			opts.WALDir = filepath.Join(walDir, c.name)
		}
		if c.key != 0 {
			opts.ValueStorage.MaxKeySize = c.key
		}
		if c.threshold != 0 {
			opts.ValueStorage.BlobThreshold = c.threshold
		}
		if c.value != 0 {
			opts.ValueStorage.MaxValueSize = c.value
		}
		err := opts.Validate()
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: Validate: %v", c.name, err)
		case !c.ok && !errors.Is(err, isledb.ErrInvalidOptions):
			t.Errorf("%s: Validate = %v, want ErrInvalidOptions", c.name, err)
		case !c.ok && (!strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), c.reason)):
			t.Errorf("%s: Validate = %v, want it to name %s (%s)", c.name, err, c.field, c.reason)
		}
		if c.ok {
			// OpenWriter validates the same way.
			w, err := db.OpenWriter(ctx, opts)
			if err != nil {
				t.Errorf("%s: OpenWriter: %v", c.name, err)
				continue
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		} else if _, err := db.OpenWriter(ctx, opts); !errors.Is(err, isledb.ErrInvalidOptions) {
			t.Errorf("%s: OpenWriter = %v, want ErrInvalidOptions", c.name, err)
		}
	}
}

// TestLimitsDocumented: the limits table of docs/format.md states the constants' values.
func TestLimitsDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/format.md")
	if err != nil {
		t.Fatal(err)
	}
	table := string(doc)
	if i := strings.Index(table, "## Limits"); i < 0 {
		t.Fatal(`docs/format.md has no "Limits" section`)
	} else {
		table = table[i : i+strings.Index(table[i:], "\n## ")+1]
	}
	for name, v := range map[string]int64{
		"config.KeySizeLimit":         config.KeySizeLimit,
		"config.InlineValueSizeLimit": config.InlineValueSizeLimit,
		"wal.MaxEntrySize":            wal.MaxEntrySize,
		"isledb.MaxValueSizeWithWAL":  isledb.MaxValueSizeWithWAL,
	} {
		row := ""
		for _, l := range strings.Split(table, "\n") {
			if strings.Contains(l, "`"+name+"`") {
				row = l
			}
		}
		if !strings.Contains(row, groupDigits(v)) {
			t.Errorf("limits table row of %s does not state %s bytes: %q", name, groupDigits(v), row)
		}
	}
}

// groupDigits formats n with thousands separators, as the docs do.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestLimitsUnstorableWALRecord: a WAL holding a write no flush can store (logged by a
// version whose options allowed a 100 KiB key) between good writes. Reopening used to fail
// for good (the replay's flush failed); now OpenWriter fails with ErrKeyTooLarge, leaving the
// log alone, and with DiscardUnresolvedWAL drops that write, replays the good ones and
// opens.
func TestLimitsUnstorableWALRecord(t *testing.T) {
	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	opts := limitsWriterOptions(t.TempDir())
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	epoch := w.Fence().Epoch
	w.CrashForTest()

	// Log three writes as the writer would have (writer WAL record version 2).
	bad := bytes.Repeat([]byte("b"), 100<<10)
	keys := [][]byte{[]byte("good-1"), bad, []byte("good-2")}
	log, err := wal.Open(wal.DefaultOptions(opts.WALDir))
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		rec := []byte{2, 1} // version 2, kind value
		rec = binary.LittleEndian.AppendUint64(rec, uint64(i+1))
		rec = binary.LittleEndian.AppendUint64(rec, 0)
		rec = binary.AppendUvarint(rec, epoch)
		rec = binary.AppendUvarint(rec, uint64(len(k)))
		rec = append(append(rec, k...), "v"...)
		if _, err := log.Append("writer", rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := db.OpenWriter(ctx, opts); !errors.Is(err, isledb.ErrKeyTooLarge) {
		t.Fatalf("OpenWriter on a WAL with a 100 KiB key: %v, want ErrKeyTooLarge", err)
	}
	opts.DiscardUnresolvedWAL = true
	if w, err = db.OpenWriter(ctx, opts); err != nil {
		t.Fatalf("OpenWriter with DiscardUnresolvedWAL: %v", err)
	}
	if st := w.WALReplayStats(); st.Replayed != 2 || st.Unstorable != 1 {
		t.Errorf("replay: %v, want 2 replayed, 1 unstorable", st)
	}
	if err := w.Put([]byte("good-3"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, store, [][]byte{keys[0], keys[2], []byte("good-3"), bad})
	if string(got[0]) != "v" || string(got[1]) != "v" || string(got[2]) != "v" || got[3] != nil {
		t.Fatalf("read %q; want v, v, v, not found", got)
	}
}
