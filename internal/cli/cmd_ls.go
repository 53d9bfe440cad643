package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/isledb/isledb/manifest"
)

func init() {
	register(verb{name: "ls", args: "", summary: "list the SSTs of the manifest: level, run, id, size, entries, sequence and key ranges, age", run: runLs})
}

func runLs(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("ls")
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
	writeSSTTable(c.stdout, m, time.Now())
	return nil
}

// writeSSTTable prints one line per SST: L0 newest first, then each sorted run in order.
func writeSSTTable(w io.Writer, m *manifest.Manifest, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tRUN\tSST\tSIZE\tENTRIES\tSEQ\tKEYS\tCREATED")
	row := func(level, run string, s *manifest.SSTMeta) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d-%d\t%s .. %s\t%s\n", level, run, s.ID, size(s.Size), s.EntryCount,
			s.SeqLo, s.SeqHi, show(s.MinKey), show(s.MaxKey), age(now, s.CreatedAt))
	}
	for i := range m.L0SSTs {
		row("L0", "-", &m.L0SSTs[i])
	}
	for _, r := range m.SortedRuns {
		for i := range r.SSTs {
			row("L1", fmt.Sprint(r.ID), &r.SSTs[i])
		}
	}
	_ = tw.Flush()
}
