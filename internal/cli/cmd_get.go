package cli

import (
	"context"
	"encoding/hex"
	"fmt"
)

func init() {
	register(verb{name: "get", args: "[-hex] KEY", summary: "print the value of KEY (exit status 5 if it has none)", run: runGet})
}

func runGet(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("get")
	asHex := fs.Bool("hex", false, "print the value in hex")
	if err := c.parse(fs, args, 1); err != nil {
		return err
	}
	key := []byte(fs.Arg(0))
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
	v, ok, err := r.Get(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		return withCode(ExitNotFound, "key %s not found", show(key))
	}
	if *asHex {
		fmt.Fprintln(c.stdout, hex.EncodeToString(v))
		return nil
	}
	_, err = fmt.Fprintf(c.stdout, "%s\n", v)
	return err
}
