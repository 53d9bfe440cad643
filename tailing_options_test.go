package isledb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

// TestTailingReaderOptionsValidate: the tailing reader's options follow the others:
// EnsureDefaults fills every zero field (the reader's too), Validate reports every bad
// field at once with ErrInvalidOptions, and OpenTailingReader refuses what Validate
// refuses instead of quietly replacing a negative interval.
func TestTailingReaderOptionsValidate(t *testing.T) {
	var o isledb.TailingReaderOpenOptions
	o.ReaderOptions.CacheDir = t.TempDir()
	o.EnsureDefaults()
	if o.RefreshInterval != isledb.DefaultTailRefreshInterval || o.OnRefresh == nil || o.OnRefreshError == nil {
		t.Fatalf("EnsureDefaults left zero fields: %+v", o)
	}
	if o.ReaderOptions.SSTCacheSize == 0 || o.ReaderOptions.BlobCacheSize == 0 {
		t.Fatalf("EnsureDefaults left the reader options' sizes zero: %+v", o.ReaderOptions)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}

	bad := isledb.TailingReaderOpenOptions{RefreshInterval: -time.Second}
	bad.EnsureDefaults()
	bad.ReaderOptions.CacheDir = ""
	err := bad.Validate()
	if !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("Validate: %v, want ErrInvalidOptions", err)
	}
	for _, want := range []string{"RefreshInterval", "ReaderOptions.CacheDir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not name %s", err, want)
		}
	}

	ctx := context.Background()
	store := blobstore.NewMemory("db")
	db := openTestDB(t, store)
	w, err := db.OpenWriter(ctx, isledb.DefaultWriterOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	neg := isledb.TailingReaderOpenOptions{RefreshInterval: -time.Millisecond, ReaderOptions: isledb.ReaderOpenOptions{CacheDir: t.TempDir()}}
	if tr, err := isledb.OpenTailingReader(ctx, store, neg); !errors.Is(err, isledb.ErrInvalidOptions) {
		if tr != nil {
			_ = tr.Close()
		}
		t.Fatalf("OpenTailingReader with a negative interval: %v, want ErrInvalidOptions", err)
	}
	ok := isledb.TailingReaderOpenOptions{ReaderOptions: isledb.ReaderOpenOptions{CacheDir: t.TempDir()}}
	tr, err := isledb.OpenTailingReader(ctx, store, ok)
	if err != nil {
		t.Fatalf("OpenTailingReader with zero-value options: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTailIdleBackoff pins the background loop's schedule: after 8 refreshes in a row
// that found nothing (IdleRefreshInterval / RefreshInterval), the wait doubles up to
// IdleRefreshInterval, and it drops back at once when one finds a version; the default
// idle cap is 8 × RefreshInterval, so an idle default tailer makes one request per 8 s
// (plus a LIST per PruneGrace/2).
func TestTailIdleBackoff(t *testing.T) {
	o := isledb.TailingReaderOpenOptions{}
	o.EnsureDefaults()
	if o.IdleRefreshInterval != 8*time.Second {
		t.Fatalf("default IdleRefreshInterval %v, want 8s", o.IdleRefreshInterval)
	}
	base, idle := o.RefreshInterval, o.IdleRefreshInterval
	var got []time.Duration
	wait := base
	for empty := 1; empty <= 13; empty++ {
		wait = isledb.NextRefreshWaitForTest(wait, base, idle, empty)
		got = append(got, wait)
	}
	s := time.Second
	want := []time.Duration{s, s, s, s, s, s, s, 2 * s, 4 * s, 8 * s, 8 * s, 8 * s, 8 * s}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("idle waits %v, want %v", got, want)
	}
	if w := isledb.NextRefreshWaitForTest(wait, base, idle, 0); w != base {
		t.Fatalf("after a new version: %v, want %v", w, base)
	}
	// An idle cap below the interval means no backing off.
	if w := isledb.NextRefreshWaitForTest(base, base, base/2, 100); w != base {
		t.Fatalf("cap below the interval: %v, want %v", w, base)
	}
	bad := isledb.TailingReaderOpenOptions{IdleRefreshInterval: -time.Second}
	bad.EnsureDefaults()
	if err := bad.Validate(); !errors.Is(err, isledb.ErrInvalidOptions) {
		t.Fatalf("negative IdleRefreshInterval: %v", err)
	}
}
