package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/isledb/isledb"
)

func init() {
	register(verb{name: "tail", args: "[-from SEQ] [-n N] [-follow] [-poll D]",
		summary: "print the change feed (seq, put or del, key, value), from SEQ; with -follow, keep printing new changes until interrupted", run: runTail})
}

// errTailDone ends a tail that printed its -n changes.
var errTailDone = errors.New("tail: done")

func runTail(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("tail")
	from := fs.Uint64("from", 0, "the first sequence number to print (0: from the start)")
	n := fs.Int("n", 0, "stop after `N` changes (0: no limit)")
	follow := fs.Bool("follow", false, "keep following new writes (until -n changes or an interrupt)")
	poll := fs.Duration("poll", time.Second, "how often -follow looks for new writes")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *poll <= 0 {
		return usageErr("-poll %v: want a positive duration", *poll)
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	count := 0
	print := func(ch isledb.Change) error {
		if ch.Delete {
			fmt.Fprintf(c.stdout, "%d\tdel\t%s\n", ch.Seq, show(ch.Key))
		} else {
			fmt.Fprintf(c.stdout, "%d\tput\t%s\t%s\n", ch.Seq, show(ch.Key), show(ch.Value))
		}
		count++
		if *n > 0 && count >= *n {
			return errTailDone
		}
		return nil
	}
	opts := isledb.ChangeOptions{FromSeq: *from, PollInterval: *poll}
	if !*follow {
		r, done, err := c.reader(ctx, s)
		if err != nil {
			return err
		}
		defer done()
		if _, err := r.Changes(ctx, opts, print); err != nil && !errors.Is(err, errTailDone) {
			return err
		}
		return nil
	}
	tr, cleanup, err := c.tailingReader(ctx, s, *poll)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := tr.Start(); err != nil {
		return err
	}
	err = tr.TailChanges(ctx, opts, print)
	if errors.Is(err, errTailDone) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
