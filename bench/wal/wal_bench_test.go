// Package walbench compares the isledb wal package with github.com/tidwall/wal and
// github.com/hashicorp/raft-wal on the same disk (b.TempDir), in one `go test -bench` run:
//
//	cd bench && go test ./wal -run '^$' -bench . -count 5
//
// fsync latency on a shared machine varies a lot from second to second, so compare the
// median of several counts per row rather than single samples.
//
// Every engine is configured to fsync each write: our wal with SyncStrict; tidwall/wal with
// Options.NoSync = false (its default: fsync after every Write/WriteBatch); raft-wal always
// fsyncs each StoreLog/StoreLogs call. Neither peer assigns indexes itself or accepts
// concurrent writers with independent indexes, so their adapters take a mutex around
// "next index + write"; our wal assigns sequence numbers and commits concurrent appenders as
// a group.
//
// Rows: appends/s with an fsync per append (1 and 16 appenders), appends/s in batches of 100,
// and sequential read throughput (MB/s), each for records of 100 B and 4 KiB.
package walbench

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/isledb/isledb/wal"
	twal "github.com/tidwall/wal"
)

// engine is the common shape of the logs under test. append and appendBatch must be safe
// for concurrent use and durable (fsynced) when they return.
type engine interface {
	append(data []byte) error
	appendBatch(data [][]byte) error
	// scan reads every entry in order and calls fn with it.
	scan(fn func([]byte)) error
	close() error
}

type opener struct {
	name string
	open func(dir string) (engine, error)
}

var engines = []opener{
	{"isledb", openIsle},
	{"tidwall", openTidwall},
	{"raftwal", openRaftWAL},
}

// --- isledb wal ---

type isleEngine struct{ w *wal.WAL }

const isleStream = "bench"

func openIsle(dir string) (engine, error) {
	o := wal.DefaultOptions(dir)
	o.SyncMode = wal.SyncStrict
	w, err := wal.Open(o)
	if err != nil {
		return nil, err
	}
	return &isleEngine{w: w}, nil
}

func (e *isleEngine) append(d []byte) error {
	_, err := e.w.Append(isleStream, d)
	return err
}

func (e *isleEngine) appendBatch(d [][]byte) error {
	_, err := e.w.AppendBatch(isleStream, d)
	return err
}

func (e *isleEngine) scan(fn func([]byte)) error {
	it, err := e.w.Iter(isleStream, 0)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		fn(it.Entry())
	}
	return it.Err()
}

func (e *isleEngine) close() error { return e.w.Close() }

// --- tidwall/wal ---

type tidwallEngine struct {
	mu   sync.Mutex
	l    *twal.Log
	next uint64
	b    twal.Batch
}

func openTidwall(dir string) (engine, error) {
	opts := *twal.DefaultOptions
	opts.NoSync = false // fsync after every write (the default)
	l, err := twal.Open(dir, &opts)
	if err != nil {
		return nil, err
	}
	last, err := l.LastIndex()
	if err != nil {
		return nil, err
	}
	return &tidwallEngine{l: l, next: last + 1}, nil
}

func (e *tidwallEngine) append(d []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.l.Write(e.next, d); err != nil {
		return err
	}
	e.next++
	return nil
}

func (e *tidwallEngine) appendBatch(d [][]byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.b.Clear()
	for i, x := range d {
		e.b.Write(e.next+uint64(i), x)
	}
	if err := e.l.WriteBatch(&e.b); err != nil {
		return err
	}
	e.next += uint64(len(d))
	return nil
}

func (e *tidwallEngine) scan(fn func([]byte)) error {
	first, err := e.l.FirstIndex()
	if err != nil {
		return err
	}
	last, err := e.l.LastIndex()
	if err != nil {
		return err
	}
	for i := first; i <= last && first > 0; i++ {
		d, err := e.l.Read(i)
		if err != nil {
			return err
		}
		fn(d)
	}
	return nil
}

func (e *tidwallEngine) close() error { return e.l.Close() }

// --- hashicorp/raft-wal ---

type raftEngine struct {
	mu   sync.Mutex
	w    *raftwal.WAL
	next uint64
	logs []*raft.Log
}

func openRaftWAL(dir string) (engine, error) {
	w, err := raftwal.Open(dir)
	if err != nil {
		return nil, err
	}
	last, err := w.LastIndex()
	if err != nil {
		return nil, err
	}
	return &raftEngine{w: w, next: last + 1}, nil
}

func (e *raftEngine) append(d []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.w.StoreLog(&raft.Log{Index: e.next, Term: 1, Type: raft.LogCommand, Data: d}); err != nil {
		return err
	}
	e.next++
	return nil
}

func (e *raftEngine) appendBatch(d [][]byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = e.logs[:0]
	for i, x := range d {
		e.logs = append(e.logs, &raft.Log{Index: e.next + uint64(i), Term: 1, Type: raft.LogCommand, Data: x})
	}
	if err := e.w.StoreLogs(e.logs); err != nil {
		return err
	}
	e.next += uint64(len(d))
	return nil
}

func (e *raftEngine) scan(fn func([]byte)) error {
	first, err := e.w.FirstIndex()
	if err != nil {
		return err
	}
	last, err := e.w.LastIndex()
	if err != nil {
		return err
	}
	var l raft.Log
	for i := first; i <= last && first > 0; i++ {
		if err := e.w.GetLog(i, &l); err != nil {
			return err
		}
		fn(l.Data)
	}
	return nil
}

func (e *raftEngine) close() error { return e.w.Close() }

// --- benchmarks ---

var sizes = []int{100, 4096}

func payload(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func openEngine(b *testing.B, o opener) engine {
	b.Helper()
	dir := filepath.Join(b.TempDir(), o.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	e, err := o.open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.close() })
	return e
}

func reportRate(b *testing.B, n int, start time.Time, unit string) {
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), unit)
}

// BenchmarkAppendSync measures durable single-entry appends, by 1 and by 16 concurrent
// appenders.
func BenchmarkAppendSync(b *testing.B) {
	for _, size := range sizes {
		for _, appenders := range []int{1, 16} {
			for _, o := range engines {
				b.Run(fmt.Sprintf("size=%d/appenders=%d/%s", size, appenders, o.name), func(b *testing.B) {
					e := openEngine(b, o)
					data := payload(size)
					b.SetBytes(int64(size))
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					errs := make(chan error, appenders)
					for g := 0; g < appenders; g++ {
						n := b.N / appenders
						if g < b.N%appenders {
							n++
						}
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := 0; i < n; i++ {
								if err := e.append(data); err != nil {
									errs <- err
									return
								}
							}
						}()
					}
					wg.Wait()
					reportRate(b, b.N, start, "appends/s")
					select {
					case err := <-errs:
						b.Fatal(err)
					default:
					}
				})
			}
		}
	}
}

// BenchmarkAppendBatch measures durable appends in batches of 100 entries; b.N counts
// entries.
func BenchmarkAppendBatch(b *testing.B) {
	const batch = 100
	for _, size := range sizes {
		for _, o := range engines {
			b.Run(fmt.Sprintf("size=%d/batch=%d/%s", size, batch, o.name), func(b *testing.B) {
				e := openEngine(b, o)
				data := payload(size)
				entries := make([][]byte, batch)
				for i := range entries {
					entries[i] = data
				}
				b.SetBytes(int64(size))
				b.ResetTimer()
				start := time.Now()
				for done := 0; done < b.N; done += batch {
					if err := e.appendBatch(entries[:min(batch, b.N-done)]); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, b.N, start, "appends/s")
			})
		}
	}
}

// BenchmarkReadSeq measures a sequential scan of a log holding 32 MiB of records; each
// iteration reads the whole log.
func BenchmarkReadSeq(b *testing.B) {
	const total = 32 << 20
	for _, size := range sizes {
		for _, o := range engines {
			b.Run(fmt.Sprintf("size=%d/%s", size, o.name), func(b *testing.B) {
				e := openEngine(b, o)
				data := payload(size)
				n := total / size
				entries := make([][]byte, 0, 1000)
				for done := 0; done < n; done += len(entries) {
					entries = entries[:0]
					for i := 0; i < min(1000, n-done); i++ {
						entries = append(entries, data)
					}
					if err := e.appendBatch(entries); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(n * size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					got := 0
					if err := e.scan(func(d []byte) { got += len(d) }); err != nil {
						b.Fatal(err)
					}
					if got != n*size {
						b.Fatalf("scanned %d bytes, want %d", got, n*size)
					}
				}
			})
		}
	}
}
