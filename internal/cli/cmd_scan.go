package cli

import (
	"bytes"
	"context"
	"fmt"

	"github.com/isledb/isledb"
)

func init() {
	register(verb{name: "scan", args: "[-prefix P] [-from A] [-to B] [-limit N] [-keys]",
		summary: "print the keys and values in key order (tab separated), within the given bounds (inclusive)", run: runScan})
}

func runScan(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("scan")
	prefix := fs.String("prefix", "", "only keys starting with `P` (here a key prefix; the database's prefix is the global -prefix)")
	from := fs.String("from", "", "the smallest key (inclusive)")
	to := fs.String("to", "", "the largest key (inclusive)")
	limit := fs.Int("limit", 0, "print at most `N` pairs (0: all)")
	keysOnly := fs.Bool("keys", false, "print only the keys")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	var lo, hi []byte
	if *from != "" {
		lo = []byte(*from)
	}
	if *to != "" {
		hi = []byte(*to)
	}
	if p := []byte(*prefix); len(p) > 0 && (lo == nil || bytes.Compare(lo, p) < 0) {
		lo = p
	}
	if lo != nil && hi != nil && bytes.Compare(lo, hi) > 0 {
		return usageErr("-from %s is above -to %s", show(lo), show(hi))
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	r, done, err := c.reader(ctx, s)
	if err != nil {
		return err
	}
	defer done()
	it, err := r.NewIterator(ctx, isledb.IteratorOptions{MinKey: lo, MaxKey: hi})
	if err != nil {
		return err
	}
	n := 0
	for (*limit <= 0 || n < *limit) && it.Next() {
		if *prefix != "" && !bytes.HasPrefix(it.Key(), []byte(*prefix)) {
			break
		}
		if *keysOnly {
			fmt.Fprintln(c.stdout, show(it.Key()))
		} else {
			fmt.Fprintf(c.stdout, "%s\t%s\n", show(it.Key()), show(it.Value()))
		}
		n++
	}
	return it.Close()
}
