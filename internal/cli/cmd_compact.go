package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
)

func init() {
	register(verb{name: "compact", args: "[-l0 N] [-owner ID]",
		summary: "run one compaction cycle (the jobs due, then a GC pass if it compacted) and report it; claims the compactor role, fencing a running compactor", run: runCompact})
}

func runCompact(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("compact")
	def := isledb.DefaultCompactorOptions()
	l0 := fs.Int("l0", def.L0CompactionThreshold, "compact L0 once it holds `N` SSTs (CompactorOptions.L0CompactionThreshold)")
	owner := fs.String("owner", "isledb-cli", "the owner id of the compactor claim")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *l0 < 1 {
		return usageErr("-l0 %d: want at least 1", *l0)
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var jobs []string
	comp, db, err := c.compactor(ctx, s, func(o *isledb.CompactorOptions) {
		o.L0CompactionThreshold = *l0
		o.OwnerID = *owner
		o.OnCompactionEnd = func(j isledb.CompactionJob, err error) {
			line := fmt.Sprintf("job %s: %d input SSTs, runs %v", j.Type, len(j.InputSSTs), j.InputRuns)
			switch {
			case err != nil:
				line += ": failed: " + err.Error()
			case j.OutputRun != nil:
				line += fmt.Sprintf(" -> run %d (%d SSTs)", j.OutputRun.ID, len(j.OutputRun.SSTs))
			default:
				line += " -> nothing left (every entry dropped)"
			}
			jobs = append(jobs, line)
		}
	})
	if err != nil {
		return err
	}
	defer db.Close()
	before, err := replay(ctx, s)
	if err != nil {
		return err
	}
	if err := comp.RunCompaction(ctx); err != nil {
		return err
	}
	after, err := replay(ctx, s)
	if err != nil {
		return err
	}
	st := comp.Stats()
	w := c.stdout
	fmt.Fprintf(w, "before: %d L0 SSTs, %d sorted runs\n", len(before.L0SSTs), len(before.SortedRuns))
	fmt.Fprintf(w, "after:  %d L0 SSTs, %d sorted runs\n", len(after.L0SSTs), len(after.SortedRuns))
	fmt.Fprintf(w, "%d jobs: %d SSTs (%s) -> %d SSTs (%s), %d entries written, %d dropped; gc: %v\n",
		st.Compactions, st.InputSSTs, size(st.InputBytes), st.OutputSSTs, size(st.OutputBytes), st.EntriesWritten, st.EntriesDropped, st.GC)
	for _, j := range jobs {
		fmt.Fprintln(w, j)
	}
	return nil
}

// compactor opens a DB on s and claims the compactor role. Warnings go to stderr.
func (c *cmd) compactor(ctx context.Context, s *blobstore.Store, set func(*isledb.CompactorOptions)) (*isledb.Compactor, *isledb.DB, error) {
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := isledb.OpenDB(ctx, s, isledb.DBOptions{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	opts := isledb.DefaultCompactorOptions()
	opts.Logger = logger
	set(&opts)
	comp, err := db.OpenCompactor(ctx, opts)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return comp, db, nil
}
