package isledb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

func TestRetentionVictims(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	mk := func(l0 []time.Duration, runs ...[]time.Duration) *manifest.Manifest {
		m := &manifest.Manifest{}
		n := 0
		sst := func(ago time.Duration) manifest.SSTMeta {
			n++
			return manifest.SSTMeta{ID: fmt.Sprintf("s%02d", n), CreatedAt: at(ago), Size: 10}
		}
		for _, a := range l0 {
			m.L0SSTs = append(m.L0SSTs, sst(a))
		}
		for i, r := range runs {
			run := manifest.SortedRun{ID: uint32(i + 1)}
			for _, a := range r {
				run.SSTs = append(run.SSTs, sst(a))
			}
			m.SortedRuns = append(m.SortedRuns, run)
		}
		return m
	}
	h := time.Hour
	for _, tc := range []struct {
		name string
		m    *manifest.Manifest
		o    RetentionCompactorOptions
		want []string
	}{
		{
			name: "age: older than the period, beyond the newest count",
			m:    mk([]time.Duration{1 * h, 2 * h, 30 * h, 40 * h, 50 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByAge, RetentionPeriod: 24 * h, RetentionCount: 3},
			want: []string{"s04", "s05"},
		},
		{
			name: "age: the newest count is kept even when old",
			m:    mk([]time.Duration{30 * h, 40 * h, 50 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByAge, RetentionPeriod: 24 * h, RetentionCount: 2},
			want: []string{"s03"},
		},
		{
			name: "age: runs count too, by CreatedAt",
			m:    mk([]time.Duration{1 * h}, []time.Duration{100 * h, 5 * h}, []time.Duration{200 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByAge, RetentionPeriod: 24 * h, RetentionCount: 1},
			want: []string{"s02", "s04"},
		},
		{
			name: "age: nothing old enough",
			m:    mk([]time.Duration{1 * h, 2 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByAge, RetentionPeriod: 24 * h},
		},
		{
			// Segments of 10h counted from the epoch: now is 8h into one, the cutoff (24h
			// ago) 4h into one. The SST of 25h ago is in the segment holding the cutoff,
			// which has not ended: kept. Segments ending at or before the cutoff go.
			name: "window: whole segments that ended before the cutoff",
			m:    mk([]time.Duration{1 * h, 3 * h, 23 * h, 25 * h, 35 * h, 47 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByTimeWindow, RetentionPeriod: 24 * h, SegmentDuration: 10 * h, RetentionCount: 10},
			want: []string{"s05", "s06"},
		},
		{
			name: "window: keep RetentionCount/10 segments",
			m:    mk([]time.Duration{100 * h, 120 * h, 140 * h, 160 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByTimeWindow, RetentionPeriod: 24 * h, SegmentDuration: 10 * h, RetentionCount: 25},
			want: []string{"s03", "s04"},
		},
		{
			name: "window: at least one segment",
			m:    mk([]time.Duration{100 * h, 101 * h, 140 * h}),
			o:    RetentionCompactorOptions{Mode: CompactByTimeWindow, RetentionPeriod: 24 * h, SegmentDuration: 10 * h, RetentionCount: 0},
			want: []string{"s03"},
		},
	} {
		var got []string
		for _, s := range retentionVictims(tc.m, tc.o, now) {
			got = append(got, s.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: victims %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRetentionCompactor: a cleanup removes the expired SSTs from the manifest in one entry,
// readers lose exactly their keys, the callbacks and stats report it, and GC deletes the
// objects after the grace period.
func TestRetentionCompactor(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, _ := OpenDB(ctx, store, DBOptions{})
		defer db.Close()
		w, err := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			_ = w.Put(fmt.Appendf(nil, "key-%d", i), []byte("v"))
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var cleanups []CleanupStats
		var errs []error
		rc, err := db.OpenRetentionCompactor(ctx, RetentionCompactorOptions{
			RetentionPeriod: time.Nanosecond, RetentionCount: 2, GCGracePeriod: 5 * time.Millisecond, GCInterval: time.Nanosecond,
			OnCleanup:      func(s CleanupStats) { cleanups = append(cleanups, s) },
			OnCleanupError: func(err error) { errs = append(errs, err) },
		})
		if err != nil {
			t.Fatal(err)
		}
		st := rc.Stats()
		if st.L0SSTCount != 6 || st.TotalSize == 0 || st.OldestSST.IsZero() || st.Mode != CompactByAge {
			t.Fatalf("stats before: %v", st)
		}
		if err := rc.RunCleanup(ctx); err != nil {
			t.Fatal(err)
		}
		if len(cleanups) != 1 || cleanups[0].SSTsDeleted != 4 || cleanups[0].BytesReclaimed == 0 || len(errs) != 0 {
			t.Fatalf("cleanups %+v, errors %v", cleanups, errs)
		}
		r, err := OpenReader(ctx, store, ReaderOpenOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		kvs, err := r.Scan(ctx, nil, nil)
		if err != nil || len(kvs) != 2 || string(kvs[0].Key) != "key-4" || string(kvs[1].Key) != "key-5" {
			t.Fatalf("after cleanup: %v, %v", kvs, err)
		}
		if st := rc.Stats(); st.L0SSTCount != 2 || st.SSTsDeleted != 4 || st.Cleanups != 1 {
			t.Fatalf("stats after: %v", st)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			gst, err := rc.RunGC(ctx)
			if err != nil {
				t.Fatal(err)
			}
			objs, _ := store.ListSSTFiles(ctx)
			if len(objs) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GC left %d objects (%v)", len(objs), gst)
			}
			time.Sleep(time.Millisecond)
		}
		// The retention compactor's fence: a merge compactor takes it over.
		c, err := db.OpenCompactor(ctx, CompactorOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := rc.RunCleanup(ctx); !errors.Is(err, manifest.ErrFenced) || !rc.IsFenced() || len(errs) != 1 {
			t.Fatalf("fenced cleanup: %v (IsFenced %v, OnCleanupError calls %d)", err, rc.IsFenced(), len(errs))
		}
	})
}

// TestRetentionBackground: the background loop expires data on its own.
func TestRetentionBackground(t *testing.T) {
	ctx := context.Background()
	store := testutil.Backends(testutil.Core)[0].Open(t)
	db, _ := OpenDB(ctx, store, DBOptions{})
	defer db.Close()
	w, _ := db.OpenWriter(ctx, WriterOptions{FlushInterval: -1})
	done := make(chan CleanupStats, 100)
	rc, err := db.OpenRetentionCompactor(ctx, RetentionCompactorOptions{
		Mode: CompactByTimeWindow, SegmentDuration: time.Millisecond, RetentionPeriod: time.Millisecond,
		CheckInterval: time.Millisecond, OnCleanup: func(s CleanupStats) {
			if s.SSTsDeleted > 0 {
				done <- s
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_ = w.Put(fmt.Appendf(nil, "k%d", i), []byte("v"))
		_ = w.Flush(ctx)
		time.Sleep(2 * time.Millisecond) // a new segment each
	}
	rc.Start()
	defer rc.Stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the background loop deleted nothing")
	}
	rc.Stop()
	if st := rc.Stats(); st.L0SSTCount < 1 || st.SSTsDeleted == 0 {
		t.Fatalf("stats: %v", st)
	}
}
