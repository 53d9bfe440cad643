// Command isledb is IsleDB's command-line tool.
//
//	isledb demo [flags]    write, flush and read back a few hundred thousand keys on a
//	                       local file bucket, printing timings and request counts
//	isledb bench [flags]   run the standard workloads (fillrandom, readrandom, scan,
//	                       readwhilewriting, tail, ...) on memory, file, simulated S3 or
//	                       S3, with latency percentiles, request counts and costs
//
// Run "isledb <verb> -h" for a verb's flags.
package main

import (
	"fmt"
	"os"
)

// verb is one subcommand.
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
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	for _, v := range verbs {
		if v.name == os.Args[1] {
			if err := v.run(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "isledb %s: %v\n", v.name, err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "isledb: unknown verb %q\n\n", os.Args[1])
	usage()
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: isledb <verb> [flags]\n\nverbs:")
	for _, v := range verbs {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", v.name, v.summary)
	}
}
