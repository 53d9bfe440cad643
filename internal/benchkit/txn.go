package benchkit

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// The transaction workloads: Txns read-modify-write transactions (read one key, write it,
// commit) from TxnConcurrency goroutines, where 0%, 10% or 50% of them use one hot key
// (and so conflict with each other) and the rest keys of their own from the data set.
// They run only on Transactor engines, and only when asked for (they are not in
// Workloads, the default list).
const (
	Txn0  = "txn0"  // no transaction shares a key
	Txn10 = "txn10" // 10% read-modify-write one hot key
	Txn50 = "txn50" // 50% read-modify-write one hot key
)

// TxnWorkloads lists the transaction workloads in run order (after Workloads).
var TxnWorkloads = []string{Txn0, Txn10, Txn50}

// Transactor is an Engine with optimistic transactions.
type Transactor interface {
	// ReadModifyWrite runs one transaction: it reads key (absent is fine), writes value
	// under it and commits. conflict reports a commit the engine refused because another
	// transaction wrote key after this one began (nothing applied): not an error.
	ReadModifyWrite(key, value []byte) (conflict bool, err error)
}

// hotShare returns the share of transactions on the hot key of a transaction workload.
func hotShare(w string) int {
	switch w {
	case Txn10:
		return 10
	case Txn50:
		return 50
	}
	return 0
}

// txns runs a transaction workload. Ops counts the committed transactions (ops/s is
// commits per second); Attempts the transactions run, ConflictsPerTxn the share refused
// with a conflict. The latency of each attempt, from Begin to the end of Commit, goes in
// the histogram, conflicting ones included.
func (r *runner) txns(ctx context.Context, e Engine, t Transactor, name string) (Result, error) {
	n := r.cfg.Txns
	hot := hotShare(name)
	keys := max(r.cfg.Keys-1, 1)
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(0x7a+hot)))
	idx := make([]int, n) // 0: the hot key; else a key of the data set no other attempt uses
	for i := range idx {
		if rng.IntN(100) >= hot {
			idx[i] = 1 + i%keys
		}
	}
	bufs := make([][]byte, r.cfg.TxnConcurrency)
	shift := int(r.seq.Add(1)) * 11
	var conflicts atomic.Int64
	kv := int64(r.cfg.KeySize + r.cfg.ValueSize)
	var res Result
	var err error
	res, err = r.measure(e, name, func() (int64, *Histogram, time.Duration, int64, int64, error) {
		h, el, err := runOps(ctx, n, r.cfg.TxnConcurrency, r.progress(name, n), func(w, i int) error {
			bufs[w] = r.keys.randomKey(bufs[w], idx[i])
			conflict, err := t.ReadModifyWrite(bufs[w], r.values.value(i+shift, r.cfg.ValueSize))
			if err != nil {
				return fmt.Errorf("transaction %d: %w", i, err)
			}
			if conflict {
				conflicts.Add(1)
			}
			return nil
		})
		commits := int64(n) - conflicts.Load()
		return commits, h, el, commits * kv, commits * kv, err
	})
	if err != nil {
		return res, err
	}
	res.Concurrency = r.cfg.TxnConcurrency
	res.Attempts = int64(n)
	c := float64(conflicts.Load()) / float64(max(n, 1))
	res.ConflictsPerTxn = &c
	return res, nil
}

// WriteTxnTable writes the results of the transaction workloads (others are left out) as
// a table: commits per second, conflicts per transaction attempted, p50 and p99 of an
// attempt, and, when results hold the engine peer, the engine's commits/s and p99 over
// peer's on the same workload. markdown false writes aligned text.
func WriteTxnTable(w io.Writer, results []Result, peer string, markdown bool) error {
	peerOf := map[string]Result{}
	for _, r := range results {
		if r.Engine == peer && r.ConflictsPerTxn != nil {
			peerOf[r.Workload] = r
		}
	}
	head := []string{"engine", "workload", "goroutines", "txns", "commits/s", "conflicts/txn", "p50", "p99"}
	if len(peerOf) > 0 {
		head = append(head, "commits/s vs "+peer, "p99 vs "+peer)
	}
	var rows [][]string
	for _, r := range results {
		if r.ConflictsPerTxn == nil {
			continue
		}
		cells := []string{r.Engine, r.Workload, fmt.Sprint(r.Concurrency), fmt.Sprint(r.Attempts),
			fmtRate(r.OpsPerSec), fmt.Sprintf("%.3f", *r.ConflictsPerTxn), fmtUs(r.P50Us), fmtUs(r.P99Us)}
		if len(peerOf) > 0 {
			if p, ok := peerOf[r.Workload]; ok && p.OpsPerSec > 0 && p.P99Us > 0 {
				cells = append(cells, fmt.Sprintf("%.2f×", r.OpsPerSec/p.OpsPerSec), fmt.Sprintf("%.2f×", r.P99Us/p.P99Us))
			} else {
				cells = append(cells, "-", "-")
			}
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		return nil
	}
	return writeTable(w, head, rows, 2, markdown)
}
