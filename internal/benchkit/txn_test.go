package benchkit

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunTxn runs the transaction workloads on IsleDB's memory backend: every attempt is
// a commit or a conflict, transactions on keys of their own never conflict, and the
// table shows them.
func TestRunTxn(t *testing.T) {
	cfg := Config{Keys: 1000, Txns: 400, TxnConcurrency: 4, Workloads: TxnWorkloads}
	op, cleanup, err := IsleDBOpener(IsleDBOptions{Backend: "memory", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	results, err := Run(context.Background(), cfg, op)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(TxnWorkloads) {
		t.Fatalf("got %d results, want %d", len(results), len(TxnWorkloads))
	}
	for i, r := range results {
		if r.Workload != TxnWorkloads[i] || r.Attempts != 400 || r.ConflictsPerTxn == nil || r.Concurrency != 4 {
			t.Fatalf("result %d: %+v", i, r)
		}
		conflicts := *r.ConflictsPerTxn * float64(r.Attempts)
		if r.Ops <= 0 || float64(r.Ops)+conflicts+0.5 < float64(r.Attempts) || float64(r.Ops)+conflicts-0.5 > float64(r.Attempts) {
			t.Errorf("%s: %d commits and %.0f conflicts of %d attempts", r.Workload, r.Ops, conflicts, r.Attempts)
		}
		if r.P50Us <= 0 || r.P99Us < r.P50Us {
			t.Errorf("%s: latencies %+v", r.Workload, r)
		}
	}
	if c := *results[0].ConflictsPerTxn; c != 0 {
		t.Errorf("txn0: %.3f conflicts per transaction on private keys", c)
	}
	// A copy as a peer: ratios of 1.
	peer := append([]Result(nil), results...)
	for i := range peer {
		peer[i].Engine = "peer"
	}
	var buf bytes.Buffer
	if err := WriteTxnTable(&buf, append(results, peer...), "peer", true); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "| isledb | txn50 |") || !strings.Contains(out, "1.00×") {
		t.Errorf("table:\n%s", out)
	}
	bad := DefaultConfig()
	bad.Workloads = []string{Txn10, "txn7"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `"txn7"`) {
		t.Errorf("unknown workload txn7: %v", err)
	}
	bad.Workloads, bad.TxnConcurrency = TxnWorkloads, -1
	if err := bad.Validate(); err == nil {
		t.Error("TxnConcurrency -1 accepted")
	}
}
