package isledb_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

var (
	compactionBenchMB     = flag.Int("compaction.bench.mb", 64, "MiB of key-value data BenchmarkCompaction ingests (with overwrites)")
	compactionBenchTarget = flag.Int64("compaction.bench.target", 0, "TargetSSTSize of BenchmarkCompaction (0: the default)")
)

// BenchmarkCompaction ingests -compaction.bench.mb MiB of puts (200-byte values, each key
// written twice on average, in random order) into a file store with zstd, running a
// compaction cycle after every flush, and reports:
//
//   - MB/s: compaction input bytes merged per second of compaction time;
//   - MB/cpu-s: the same per second of CPU time of the process (user + system) while
//     compaction cycles ran, a figure a loaded machine distorts less;
//   - raw-MB/s: uncompressed key and value bytes merged per second of compaction time;
//   - write-amp: (flushed + compacted bytes written) / flushed bytes;
//   - user-write-amp: the same bytes / the user's key and value bytes;
//   - peak-heap-MB: the largest HeapInuse above the level before the cycle, sampled every
//     2ms while a cycle runs (the writer is idle meanwhile; GOGC is 25 during the benchmark
//     so that garbage does not dominate). The output buffers the compactor keeps between
//     jobs (up to 2 × TargetSSTSize) are in the level before the cycle, not in this figure;
//   - alloc-MB/cycle: bytes allocated per compaction cycle;
//   - req/MB: object-store requests of compaction per MiB of compaction input.
//
// Run it with -benchtime=1x; the figures are for the whole workload.
func BenchmarkCompaction(b *testing.B) {
	for _, compression := range []string{"zstd", "snappy"} {
		b.Run(compression, func(b *testing.B) {
			for range b.N {
				benchCompaction(b, compression, *compactionBenchMB<<20)
			}
		})
	}
}

func benchCompaction(b *testing.B, compression string, total int) {
	ctx := context.Background()
	// A low GOGC keeps garbage small next to the live heap, so that the sampled HeapInuse
	// is close to what the compactor really holds.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	store, err := blobstore.NewFile(ctx, b.TempDir(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	db, err := isledb.OpenDB(ctx, store, isledb.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	wopts := isledb.DefaultWriterOptions()
	wopts.FlushInterval = -1
	wopts.MemtableSize = 8 << 20
	wopts.Compression = compression
	w, err := db.OpenWriter(ctx, wopts)
	if err != nil {
		b.Fatal(err)
	}
	copts := isledb.DefaultCompactorOptions()
	copts.Compression = compression
	copts.TargetSSTSize = *compactionBenchTarget
	c, err := db.OpenCompactor(ctx, copts)
	if err != nil {
		b.Fatal(err)
	}
	ms := manifest.NewStore(store)

	const valueSize = 200
	const flushEvery = 6 << 20 // below MemtableSize with overhead: one SST per flush
	keys := total / (valueSize + 16) / 2
	rng := rand.New(rand.NewPCG(1, 2))
	value := make([]byte, valueSize)
	var userBytes, flushed int64
	seen := map[string]bool{}
	var busy, cpu time.Duration
	var peak uint64
	var allocs uint64
	var cycles int
	var reqs int64
	cycle := func() {
		m, err := ms.Replay(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range m.L0SSTs {
			if !seen[s.ID] {
				seen[s.ID] = true
				flushed += s.Size
			}
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var top atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			var s runtime.MemStats
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				runtime.ReadMemStats(&s)
				if s.HeapInuse > before.HeapInuse && s.HeapInuse-before.HeapInuse > top.Load() {
					top.Store(s.HeapInuse - before.HeapInuse)
				}
			}
		})
		st0 := store.Stats()
		cpu0 := cpuTime()
		start := time.Now()
		if err := c.RunCompaction(ctx); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start)
		cpu += cpuTime() - cpu0
		reqs += store.Stats().Sub(st0).Requests()
		close(stop)
		wg.Wait()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		allocs += after.TotalAlloc - before.TotalAlloc
		cycles++
		peak = max(peak, top.Load())
	}
	b.ResetTimer()
	for written := 0; written < total; {
		k := fmt.Appendf(nil, "key-%012d", rng.IntN(keys))
		for i := 0; i < valueSize; i += 8 {
			if i < valueSize/2 {
				v := rng.Uint64()
				for j := range 8 {
					value[i+j] = byte(v >> (8 * j))
				}
			} else {
				copy(value[i:], "abcdefgh")
			}
		}
		if err := w.Put(k, value); err != nil {
			b.Fatal(err)
		}
		written += len(k) + len(value)
		userBytes += int64(len(k) + len(value))
		if written/flushEvery != (written-len(k)-len(value))/flushEvery {
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			cycle()
		}
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	cycle()
	b.StopTimer()
	st := c.Stats()
	mb := float64(st.InputBytes) / (1 << 20)
	b.ReportMetric(mb/busy.Seconds(), "MB/s")
	b.ReportMetric(mb/cpu.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(st.InputRawBytes)/(1<<20)/busy.Seconds(), "raw-MB/s")
	b.ReportMetric(float64(flushed+st.OutputBytes)/float64(flushed), "write-amp")
	b.ReportMetric(float64(flushed+st.OutputBytes)/float64(userBytes), "user-write-amp")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(allocs)/float64(cycles)/(1<<20), "alloc-MB/cycle")
	b.ReportMetric(float64(reqs)/mb, "req/MB")
	b.Logf("%s, %d MiB of puts (%d keys): flushed %d MiB; %v; %d cycles, busy %v, cpu %v",
		compression, total>>20, keys, flushed>>20, st, cycles, busy.Round(time.Millisecond), cpu.Round(time.Millisecond))
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
