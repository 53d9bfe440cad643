// Command isledb is IsleDB's command-line tool.
//
//	isledb demo [flags]    write, flush and read back a few hundred thousand keys on a
//	                       local file bucket, printing timings and request counts
//	isledb bench [flags]   run the standard workloads (fillrandom, readrandom, scan,
//	                       readwhilewriting, tail, ...) on memory, file, simulated S3 or
//	                       S3, with latency percentiles, request counts and costs
//	isledb [-url URL] [-prefix P] VERB ...
//	                       the operator verbs on a database in a bucket: ls, manifest,
//	                       get, scan, dump, tail, verify, compact, gc, view,
//	                       serve-metrics (package internal/cli; docs/operating.md)
//
// Run "isledb help" for the list, "isledb <verb> -h" for a verb's flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/isledb/isledb/internal/cli"
)

// verb is one subcommand this file runs itself (the rest are internal/cli's).
type verb struct {
	name    string
	summary string
	run     func(args []string) error
}

var verbs = []verb{
	{"demo", "write, flush and read back keys on a local file bucket", runDemo},
	{"bench", "run named workloads (fillrandom, readrandom, scan, tail, ...) and report ops/s, latency, requests and cost", runBench},
}

func main() {
	if len(os.Args) >= 2 {
		for _, v := range verbs {
			if v.name == os.Args[1] {
				if err := v.run(os.Args[2:]); err != nil {
					fmt.Fprintf(os.Stderr, "isledb %s: %v\n", v.name, err)
					os.Exit(1)
				}
				return
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Terminal: isTerminal(os.Stderr)}
	for _, v := range verbs {
		env.Extra = append(env.Extra, [2]string{v.name, v.summary})
	}
	code := cli.Run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a character device (a terminal, not a file or pipe).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
