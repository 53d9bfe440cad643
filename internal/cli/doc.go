// Package cli implements the operator verbs of the isledb command: looking inside a
// bucket (ls, manifest, get, scan, dump, tail), checking it (verify), maintaining it
// (compact, gc), picturing it (view) and exporting its metrics (serve-metrics).
//
// Run parses the global flags (-url, the bucket as blobstore.Open takes it, and -prefix,
// the database's key prefix), then the verb and its flags, and returns the process exit
// status: ExitOK, ExitError, ExitUsage, ExitDamage, ExitNoDatabase or ExitNotFound (see
// docs/operating.md). Every verb writes its results to Env.Stdout and its diagnostics to
// Env.Stderr, so tests drive the verbs in-process. Each verb lives in its own file,
// cmd_<verb>.go.
//
// The read-only verbs (ls, manifest, get, scan, dump, tail, verify, view, gc -dry-run,
// serve-metrics) never write to the bucket. compact and gc claim the compactor role, which
// fences a compactor running elsewhere.
package cli
