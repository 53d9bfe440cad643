package benchkit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
)

// TestIsleDBEngineCompactsByDefault: an IsleDB instance of the workloads runs a
// background compactor unless NoCompactor is set, so that after several flushes the
// reader sees fewer L0 SSTs (the compactor's OnCompactionEnd hook says when a job is
// published; no sleeping).
func TestIsleDBEngineCompactsByDefault(t *testing.T) {
	const flushes = 4
	ended := make(chan error, 16)
	o := IsleDBOptions{Backend: "memory"}
	o.Writer.FlushInterval = -1 // only the Syncs below flush
	o.Compactor.L0CompactionThreshold = flushes
	o.Compactor.CheckInterval = 10 * time.Millisecond
	o.Compactor.OnCompactionEnd = func(_ isledb.CompactionJob, err error) {
		select {
		case ended <- err:
		default:
		}
	}
	var closed []IsleDBSummary
	o.OnClose = func(s IsleDBSummary) { closed = append(closed, s) }
	op, cleanup, err := IsleDBOpener(o)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	ctx := context.Background()
	e, err := op.Open(ctx, "compacts")
	if err != nil {
		t.Fatal(err)
	}
	closeOnce := sync.OnceValue(e.Close)
	defer closeOnce()
	ie := e.(*isleEngine)
	if ie.Compactor() == nil {
		t.Fatal("no compactor by default")
	}
	for f := range flushes {
		for i := range 100 {
			if err := e.Put(fmt.Appendf(nil, "k%02d-%03d", f, i), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("compaction: %v", err)
		}
	case <-time.After(time.Minute): // a guard against a hang, not a timing assumption
		t.Fatal("no compaction ended within a minute of the flushes")
	}
	if err := ie.Refresh(); err != nil {
		t.Fatal(err)
	}
	m := ie.r.Manifest()
	if len(m.L0SSTs) >= flushes || len(m.SortedRuns) == 0 {
		t.Fatalf("after compaction: %d L0 SSTs, %d sorted runs; want fewer than %d L0 SSTs and a run", len(m.L0SSTs), len(m.SortedRuns), flushes)
	}
	c, b, last, err := e.Scan(nil, 150)
	if err != nil || c != 150 || b != 150*(len("k00-000")+1) || string(last) != "k01-049" {
		t.Fatalf("Scan after compaction: %d pairs, %d bytes, last %q, %v", c, b, last, err)
	}
	if err := closeOnce(); err != nil {
		t.Fatal(err)
	}
	if len(closed) != 1 || closed[0].Name != "compacts" || !closed[0].Compacted || closed[0].Compactor.Compactions < 1 || closed[0].L0SSTs >= flushes {
		t.Fatalf("OnClose summaries %+v: want one of a compacted instance", closed)
	}
}

// TestIsleDBEngineNoCompactor: NoCompactor opens none.
func TestIsleDBEngineNoCompactor(t *testing.T) {
	var closed []IsleDBSummary
	op, cleanup, err := IsleDBOpener(IsleDBOptions{Backend: "memory", NoCompactor: true, OnClose: func(s IsleDBSummary) { closed = append(closed, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	e, err := op.Open(context.Background(), "none")
	if err != nil {
		t.Fatal(err)
	}
	if c := e.(*isleEngine).Compactor(); c != nil {
		t.Fatal("NoCompactor: a compactor runs")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if len(closed) != 1 || closed[0].Compacted || !strings.Contains(closed[0].String(), "no compactor") {
		t.Fatalf("OnClose summaries %+v: want one without a compactor", closed)
	}
}
