package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/isledb/isledb"
)

func init() {
	register(verb{name: "gc", args: "[-dry-run] [-grace D] [-owner ID]",
		summary: "run one garbage collection pass and report it; -dry-run only reports what a pass would delete now and later (and writes nothing)", run: runGC})
}

func runGC(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("gc")
	dry := fs.Bool("dry-run", false, "report what a pass would do, change nothing (no compactor claim)")
	grace := fs.Duration("grace", isledb.DefaultGCGracePeriod, "the grace period of SSTs out of the manifest (CompactorOptions.GCGracePeriod)")
	owner := fs.String("owner", "isledb-cli", "the owner id of the compactor claim")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *grace <= 0 {
		return usageErr("-grace %v: want a positive duration", *grace)
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if *dry {
		db, err := isledb.OpenDB(ctx, s, isledb.DBOptions{})
		if err != nil {
			return err
		}
		defer db.Close()
		plan, err := db.PlanGC(ctx, *grace)
		if err != nil {
			return err
		}
		writePlan(c, plan)
		return nil
	}
	comp, db, err := c.compactor(ctx, s, func(o *isledb.CompactorOptions) {
		o.GCGracePeriod = *grace
		o.OwnerID = *owner
	})
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := comp.RunGC(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "deleted %d SSTs (%s), %d blobs (%s); %d orphans found; %d SSTs waiting out the grace period\n",
		st.SSTsDeleted, size(st.SSTBytesDeleted), st.BlobsDeleted, size(st.BlobBytesDeleted), st.OrphansFound, st.Pending)
	return nil
}

func writePlan(c *cmd, plan *isledb.GCPlan) {
	w := c.stdout
	del, bytes := plan.Deletable()
	fmt.Fprintf(w, "dry run (grace period %v): a pass now would delete %d SSTs (%s); %d SSTs out of the manifest in all\n",
		plan.GracePeriod, len(del), size(bytes), len(plan.SSTs))
	if plan.MarksDamaged {
		fmt.Fprintln(w, "gc/marks is damaged: a pass sets it aside and marks every SST out of the manifest again")
	}
	if len(plan.SSTs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SST\tSIZE\tSTATE\tMARKED\tDELETE")
	for _, s := range plan.SSTs {
		state := "removed by compaction"
		if s.Orphan {
			state = "orphan"
		}
		when := "now"
		switch {
		case s.InFlight:
			state, when = "flush in flight", "never"
		case !s.Deletable:
			when = "in " + s.DeletableAt.Sub(plan.At).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, size(s.Size), state, age(plan.At, s.MarkedAt), when)
	}
	_ = tw.Flush()
}
