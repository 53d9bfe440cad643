package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/isledb/isledb/blobstore"
)

// The exit statuses of Run. Frozen: scripts depend on them.
const (
	// ExitOK: the verb did its work (verify: no damage found).
	ExitOK = 0
	// ExitError: the verb failed (the bucket could not be read, a request failed, ...).
	ExitError = 1
	// ExitUsage: a bad command line (unknown verb or flag, a missing argument, a URL
	// with an unsupported scheme).
	ExitUsage = 2
	// ExitDamage: verify found damage (or, with -strict, orphans).
	ExitDamage = 3
	// ExitNoDatabase: the bucket and prefix hold no database (no manifest object).
	ExitNoDatabase = 4
	// ExitNotFound: get found no such key, dump no such SST.
	ExitNotFound = 5
)

// Env is what the verbs run with: where their output goes and how they open the bucket.
type Env struct {
	// Stdout receives the verb's results; Stderr its diagnostics and progress bars.
	Stdout, Stderr io.Writer
	// Terminal reports whether Stderr is a terminal: progress bars are drawn only then.
	Terminal bool
	// Open opens the bucket of -url with keys under -prefix. Default: blobstore.Open.
	// The verb closes the store it returns.
	Open func(ctx context.Context, url, prefix string) (*blobstore.Store, error)
	// Getenv reads the environment (ISLEDB_URL and ISLEDB_PREFIX give the defaults of
	// -url and -prefix). Default: os.Getenv.
	Getenv func(string) string
	// Extra lists verbs the caller runs itself, for the usage message (name, summary).
	Extra [][2]string
}

// verb is one subcommand.
type verb struct {
	name    string
	args    string // the synopsis after the verb
	summary string
	run     func(ctx context.Context, c *cmd, args []string) error
}

// verbs is filled by the init functions of the cmd_*.go files.
var verbs []verb

func register(v verb) { verbs = append(verbs, v) }

// cmd is the state one verb runs with.
type cmd struct {
	env    Env
	url    string
	prefix string
	stdout io.Writer
	stderr io.Writer
}

// exitError carries an exit status other than ExitError.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

func usageErr(format string, args ...any) error { return withCode(ExitUsage, format, args...) }

// errHelp: the verb printed its help on request; exit 0.
var errHelp = errors.New("help")

// Run runs the command line args (without the program name) and returns the exit status.
func Run(ctx context.Context, env Env, args []string) int {
	if env.Open == nil {
		env.Open = blobstore.Open
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	c := &cmd{env: env, stdout: env.Stdout, stderr: env.Stderr}
	global := flag.NewFlagSet("isledb", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&c.url, "url", env.Getenv("ISLEDB_URL"), "the bucket URL (s3://, gs://, azblob://, file://); default $ISLEDB_URL")
	global.StringVar(&c.prefix, "prefix", env.Getenv("ISLEDB_PREFIX"), "the database's key prefix in the bucket; default $ISLEDB_PREFIX")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(global)
			return ExitOK
		}
		fmt.Fprintf(c.stderr, "isledb: %v\n\n", err)
		c.usage(global)
		return ExitUsage
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] == "help" {
		c.usage(global)
		if len(rest) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, v := range verbs {
		if v.name != rest[0] {
			continue
		}
		err := v.run(ctx, c, rest[1:])
		switch {
		case err == nil, errors.Is(err, errHelp):
			return ExitOK
		}
		code := ExitError
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		fmt.Fprintf(c.stderr, "isledb %s: %v\n", v.name, err)
		return code
	}
	fmt.Fprintf(c.stderr, "isledb: unknown verb %q (run \"isledb help\" for the list)\n", rest[0])
	return ExitUsage
}

func (c *cmd) usage(global *flag.FlagSet) {
	w := c.stderr
	fmt.Fprintln(w, "usage: isledb [-url URL] [-prefix PREFIX] <verb> [flags] [args]")
	fmt.Fprintln(w, "\nverbs:")
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-14s %s\n", v.name, v.summary)
	}
	for _, e := range c.env.Extra {
		fmt.Fprintf(w, "  %-14s %s\n", e[0], e[1])
	}
	fmt.Fprintln(w, "\nglobal flags:")
	global.SetOutput(w)
	global.PrintDefaults()
	global.SetOutput(io.Discard)
	fmt.Fprintln(w, "\nexit status: 0 ok, 1 error, 2 usage, 3 damage found, 4 no database, 5 not found.")
	fmt.Fprintln(w, "Run \"isledb <verb> -h\" for a verb's flags.")
}

// flags returns the flag set of verb v, printing its usage to stderr.
func (c *cmd) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		for _, v := range verbs {
			if v.name == name {
				fmt.Fprintf(c.stderr, "usage: isledb [-url URL] [-prefix PREFIX] %s %s\n\n%s\n", v.name, v.args, v.summary)
			}
		}
		if hasFlags(fs) {
			fmt.Fprintln(c.stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses a verb's flags and checks the count of positional arguments (want < 0:
// any number).
func (c *cmd) parse(fs *flag.FlagSet, args []string, want int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		if strings.Contains(err.Error(), "-url") || strings.Contains(err.Error(), "-prefix") {
			return usageErr("%v (the global flags -url and -prefix go before the verb)", err)
		}
		return usageErr("%v", err)
	}
	if want >= 0 && fs.NArg() != want {
		fs.Usage()
		return usageErr("want %d argument(s), got %d", want, fs.NArg())
	}
	return nil
}
