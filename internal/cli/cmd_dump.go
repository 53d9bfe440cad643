package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/blobref"
	"github.com/isledb/isledb/internal/sstable"
)

func init() {
	register(verb{name: "dump", args: "[-limit N] SST-ID", summary: "print the properties and the entries of one SST: key, sequence number, kind, expiry, value", run: runDump})
}

// sstID accepts an SST id, its object name ("<id>.sst") or its key ("sst/<id>.sst").
func sstID(arg string) string {
	return strings.TrimSuffix(strings.TrimPrefix(arg, base.SSTDir), base.SSTSuffix)
}

func runDump(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("dump")
	limit := fs.Int("limit", 0, "print at most `N` entries (0: all)")
	if err := c.parse(fs, args, 1); err != nil {
		return err
	}
	id := sstID(fs.Arg(0))
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	key := s.SSTPath(id)
	data, _, err := s.Read(ctx, key)
	if errors.Is(err, blobstore.ErrNotFound) || errors.Is(err, blobstore.ErrInvalidKey) {
		return withCode(ExitNotFound, "no SST %q in the bucket (%s)", id, key)
	}
	if err != nil {
		return err
	}
	r, err := sstable.OpenBytes(data, sstable.ReaderOptions{Object: key})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprintf(c.stdout, "sst %s: %s\n%s\n\n", id, size(int64(len(data))), strings.TrimSpace(r.Properties().String()))
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSEQ\tKIND\tEXPIRES\tVALUE")
	it := r.NewIter(ctx, sstable.IterOptions{})
	n := 0
	for ok := it.First(); ok && (*limit <= 0 || n < *limit); ok = it.Next() {
		exp := "-"
		if e := it.Expiry(); e != 0 {
			exp = time.Unix(0, e).UTC().Format(time.RFC3339Nano)
		}
		val := show(it.Value())
		switch it.Kind() {
		case base.KindDelete:
			val = "-"
		case base.KindBlobRef:
			if ref, err := blobref.Decode(it.Value()); err == nil {
				val = fmt.Sprintf("blob %s (%s)", ref.ID(), size(ref.Length))
			} else {
				val = "bad blob reference: " + err.Error()
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", show(it.Key()), it.Seq(), it.Kind(), exp, val)
		n++
	}
	_ = tw.Flush()
	if err := it.Close(); err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return nil
}
