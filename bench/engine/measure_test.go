package engine

import (
	"fmt"
	"time"
)

// kvReader is what the read benchmarks need from an engine.
type kvReader interface {
	get(key []byte) (found bool, err error)
	// scan iterates from start (nil: the first key) over at most n pairs (n <= 0: all),
	// touching every key and value, and returns how many it saw.
	scan(start []byte, n int) (int, error)
}

// putResult is one load of the data set.
type putResult struct {
	n      int
	put    time.Duration // from the first Put to the last one returning
	flush  time.Duration // the final Flush after the last Put
	stalls int           // IsleDB: Puts refused with ErrBackpressure (retried)
	layout string        // the files the load left
}

func (r putResult) putOpsPerSec() float64 { return float64(r.n) / r.put.Seconds() }
func (r putResult) putMBPerSec() float64 {
	return float64(r.n) * (keySize + valueSize) / 1e6 / r.put.Seconds()
}
func (r putResult) totalOpsPerSec() float64 { return float64(r.n) / (r.put + r.flush).Seconds() }

// better keeps the faster of two loads (by Put time).
func (r putResult) better(o putResult) putResult {
	if r.n == 0 || (o.n != 0 && o.put < r.put) {
		return o
	}
	return r
}

// flushResult is one Flush of a full memtable.
type flushResult struct {
	n      int
	flush  time.Duration
	detail string
}

func (r flushResult) mbPerSec() float64 {
	return float64(r.n) * (keySize + valueSize) / 1e6 / r.flush.Seconds()
}

func (r flushResult) better(o flushResult) flushResult {
	if r.n == 0 || (o.n != 0 && o.flush < r.flush) {
		return o
	}
	return r
}

// warm reads the whole data set once (every data block into the block cache) and then
// numWarmGets random keys, untimed.
func warm(r kvReader) error {
	n, err := r.scan(nil, 0)
	if err != nil {
		return err
	}
	if n != numKeys {
		return fmt.Errorf("warm-up scan saw %d keys, want %d", n, numKeys)
	}
	for _, k := range getData().warmKeys {
		if ok, err := r.get(k); err != nil || !ok {
			return fmt.Errorf("warm-up get: found %v, err %v", ok, err)
		}
	}
	return nil
}

// timeGets times each lookup of keys; every one must be found (present) or not.
func timeGets(r kvReader, keys [][]byte, present bool) (latencies, error) {
	samples := make([]time.Duration, len(keys))
	found := 0
	for i, k := range keys {
		t := time.Now()
		ok, err := r.get(k)
		samples[i] = time.Since(t)
		if err != nil {
			return latencies{}, err
		}
		if ok {
			found++
		}
	}
	if want := map[bool]int{true: len(keys), false: 0}[present]; found != want {
		return latencies{}, fmt.Errorf("%d of %d lookups found their key, want %d", found, len(keys), want)
	}
	return summarise(samples, found), nil
}

// scanResult is a full scan or a batch of short range scans.
type scanResult struct {
	keys int
	dur  time.Duration
	ops  int // scans
}

func (s scanResult) keysPerSec() float64 { return float64(s.keys) / s.dur.Seconds() }
func (s scanResult) perScan() time.Duration {
	return s.dur / time.Duration(max(s.ops, 1))
}

func (s scanResult) better(o scanResult) scanResult {
	if s.ops == 0 || (o.ops != 0 && o.keysPerSec() > s.keysPerSec()) {
		return o
	}
	return s
}

func timeFullScan(r kvReader) (scanResult, error) {
	t := time.Now()
	n, err := r.scan(nil, 0)
	d := time.Since(t)
	if err != nil {
		return scanResult{}, err
	}
	if n != numKeys {
		return scanResult{}, fmt.Errorf("full scan saw %d keys, want %d", n, numKeys)
	}
	return scanResult{keys: n, dur: d, ops: 1}, nil
}

func timeRangeScans(r kvReader) (scanResult, error) {
	total := 0
	t := time.Now()
	for _, s := range getData().scanStarts {
		n, err := r.scan(s, scanLen)
		if err != nil {
			return scanResult{}, err
		}
		total += n
	}
	d := time.Since(t)
	// A start above the largest key sees fewer than scanLen keys; almost never.
	if total < len(getData().scanStarts)*scanLen*99/100 {
		return scanResult{}, fmt.Errorf("range scans saw %d keys", total)
	}
	return scanResult{keys: total, dur: d, ops: len(getData().scanStarts)}, nil
}
