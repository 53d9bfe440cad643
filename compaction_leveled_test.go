package isledb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

// levelOf is the level of a run of size bytes under o (the rule LeveledCompaction states).
func levelOf(size int64, o isledb.LeveledCompaction) int {
	level, budget := 1, o.BaseLevelSize
	for size > budget && level < o.MaxLevels-1 {
		budget *= int64(o.LevelSizeMultiplier)
		level++
	}
	return level
}

// TestLeveledCompaction: with CompactorOptions.Leveled, after every cycle L0 is below its
// threshold, each run is in a deeper level than the one before it (so there are at most
// MaxLevels-1 runs), and the data is unchanged.
func TestLeveledCompaction(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		store := b.Open(t)
		db, w := openAll(t, store)
		o := compactorOptions()
		o.Leveled = isledb.LeveledCompaction{Enabled: true, BaseLevelSize: 12 << 10, LevelSizeMultiplier: 2, MaxLevels: 4}
		var l0Jobs, intoL1, levelMerges int
		o.OnCompactionEnd = func(j isledb.CompactionJob, err error) {
			if err != nil {
				t.Errorf("job %v: %v", j.Type, err)
			}
			switch {
			case j.Type == isledb.CompactionL0Flush && len(j.InputRuns) == 1:
				intoL1++
			case j.Type == isledb.CompactionL0Flush:
				l0Jobs++
			default:
				levelMerges++
			}
		}
		c, err := db.OpenCompactor(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		maxRuns := 0
		for gen := range 90 {
			for i := range 25 { // new keys and overwrites of older ones
				k := fmt.Appendf(nil, "key-%05d", (gen*37+i*11)%3000)
				if err := w.Put(k, fmt.Appendf(nil, "gen-%d-%s", gen, strings.Repeat("v", 60))); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if gen%3 != 2 {
				continue
			}
			want := scanAll(t, store)
			if err := c.RunCompaction(ctx); err != nil {
				t.Fatal(err)
			}
			m, err := manifest.NewStore(store).Replay(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.L0SSTCount() >= o.L0CompactionThreshold || m.SortedRunCount() > o.Leveled.MaxLevels-1 {
				t.Fatalf("gen %d: %d L0 SSTs, %d runs", gen, m.L0SSTCount(), m.SortedRunCount())
			}
			prev := 0
			for _, r := range m.SortedRuns {
				var size int64
				for _, s := range r.SSTs {
					size += s.Size
				}
				if l := levelOf(size, o.Leveled); l <= prev {
					t.Fatalf("gen %d: run %d (%d B) is in level %d, after a run in level %d", gen, r.ID, size, l, prev)
				} else {
					prev = l
				}
			}
			maxRuns = max(maxRuns, m.SortedRunCount())
			if got := scanAll(t, store); !sameKVs(got, want) {
				t.Fatalf("gen %d: compaction changed the data: %d pairs, want %d", gen, len(got), len(want))
			}
		}
		if l0Jobs == 0 || intoL1 == 0 || levelMerges == 0 || maxRuns < 2 {
			t.Fatalf("jobs: %d L0 into a new run, %d L0 into level 1, %d level merges; at most %d runs: the policy was not exercised",
				l0Jobs, intoL1, levelMerges, maxRuns)
		}
		t.Logf("jobs: %d L0 into a new run, %d L0 into level 1, %d level merges; at most %d runs", l0Jobs, intoL1, levelMerges, maxRuns)
	})
}

func TestLeveledCompactionValidate(t *testing.T) {
	o := isledb.DefaultCompactorOptions()
	o.Leveled = isledb.LeveledCompaction{Enabled: true, BaseLevelSize: -1, LevelSizeMultiplier: 1, MaxLevels: 99}
	err := o.Validate()
	for _, f := range []string{"BaseLevelSize", "LevelSizeMultiplier", "MaxLevels"} {
		if err == nil || !strings.Contains(err.Error(), "Leveled."+f) {
			t.Errorf("Validate: %v, want Leveled.%s reported", err, f)
		}
	}
	o = isledb.CompactorOptions{Leveled: isledb.LeveledCompaction{Enabled: true}}
	o.EnsureDefaults()
	if o.Leveled.BaseLevelSize != isledb.DefaultBaseLevelSize || o.Leveled.MaxLevels != isledb.DefaultMaxLevels || o.Leveled.LevelSizeMultiplier != isledb.DefaultLevelSizeMultiplier {
		t.Fatalf("defaults: %+v", o.Leveled)
	}
}
