package engine

import (
	"github.com/isledb/isledb/internal/memtable"

	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	numKeys   = 1_000_000
	keySize   = 16
	valueSize = 100
	rawBytes  = numKeys * (keySize + valueSize)

	numGets     = 200_000 // timed point reads per pass
	numWarmGets = 50_000  // untimed reads before them
	numScans    = 20_000  // 100-key range scans per pass
	scanLen     = 100
	numColdGets = 2_000

	memtableSize   = 64 << 20
	blockCacheSize = 256 << 20
	bloomBits      = 10
)

// flushKeys fill one default 64 MiB IsleDB memtable to about 97%: an entry costs its key,
// value and node overhead (memtable.EntrySize) plus 8 bytes per tower level (4/3 on average).
var flushKeys = int(0.97 * float64(memtableSize) / (float64(memtable.EntrySize(keySize, valueSize)) + 8*4.0/3))

var ctx = context.Background()

// dataset is the workload, identical for both engines and every run.
type dataset struct {
	keys, values [][]byte
	getKeys      [][]byte // numGets present keys in random order
	warmKeys     [][]byte // numWarmGets present keys in random order
	absent       [][]byte // numGets random keys that are not in keys
	scanStarts   [][]byte // numScans random start keys
	coldKeys     [][]byte // numColdGets present keys in random order
}

var (
	dataOnce sync.Once
	data     dataset
)

func getData() *dataset {
	dataOnce.Do(func() {
		rng := rand.New(rand.NewPCG(0x15_1edb, 0xbe9c4))
		randKey := func(arena []byte) []byte {
			var k [keySize]byte
			for j := 0; j < keySize; j += 8 {
				u := rng.Uint64()
				for b := 0; b < 8; b++ {
					k[j+b] = byte(u >> (8 * b))
				}
			}
			return append(arena, k[:]...)
		}
		seen := make(map[[keySize]byte]struct{}, numKeys)
		keyArena := make([]byte, 0, numKeys*keySize)
		valArena := make([]byte, numKeys*valueSize)
		data.keys = make([][]byte, 0, numKeys)
		data.values = make([][]byte, numKeys)
		for len(data.keys) < numKeys {
			start := len(keyArena)
			keyArena = randKey(keyArena)
			k := keyArena[start:len(keyArena):len(keyArena)]
			if _, dup := seen[[keySize]byte(k)]; dup {
				keyArena = keyArena[:start]
				continue
			}
			seen[[keySize]byte(k)] = struct{}{}
			data.keys = append(data.keys, k)
		}
		for i := range numKeys {
			// 50 random bytes, then the first 10 of them five times: snappy halves it.
			v := valArena[i*valueSize : (i+1)*valueSize : (i+1)*valueSize]
			for j := 0; j < valueSize/2; j += 8 {
				u := rng.Uint64()
				for b := 0; b < 8 && j+b < valueSize/2; b++ {
					v[j+b] = byte(u >> (8 * b))
				}
			}
			for j := valueSize / 2; j < valueSize; j++ {
				v[j] = v[(j-valueSize/2)%10]
			}
			data.values[i] = v
		}
		pick := func(n int) [][]byte {
			out := make([][]byte, n)
			for i := range out {
				out[i] = data.keys[rng.IntN(numKeys)]
			}
			return out
		}
		data.getKeys = pick(numGets)
		data.warmKeys = pick(numWarmGets)
		data.coldKeys = pick(numColdGets)
		other := func(n int) [][]byte {
			arena := make([]byte, 0, n*keySize)
			out := make([][]byte, 0, n)
			for len(out) < n {
				start := len(arena)
				arena = randKey(arena)
				k := arena[start:len(arena):len(arena)]
				if _, in := seen[[keySize]byte(k)]; in {
					arena = arena[:start]
					continue
				}
				out = append(out, k)
			}
			return out
		}
		data.absent = other(numGets)
		data.scanStarts = other(numScans)
	})
	return &data
}

// benchRoot is the directory every run's data goes under; TestMain removes it.
var benchRoot string

func TestMain(m *testing.M) {
	base := os.Getenv("ISLEDB_BENCH_DIR")
	dir, err := os.MkdirTemp(base, "isledb-engine-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	benchRoot = dir
	code := m.Run()
	closeFixtures()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// newDir returns a fresh directory under benchRoot.
func newDir(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.MkdirTemp(benchRoot, name+"-")
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// settle lets the previous run's garbage and dirty pages go before a timed section.
func settle() {
	runtime.GC()
	time.Sleep(200 * time.Millisecond)
}

// loadAvg returns /proc/loadavg's first three fields, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// latencies summarises per-operation samples.
type latencies struct {
	n              int
	mean, p50, p99 time.Duration
	found          int // lookups that found their key
}

func summarise(samples []time.Duration, found int) latencies {
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	n := len(samples)
	return latencies{
		n: n, mean: sum / time.Duration(n),
		p50: samples[n/2], p99: samples[n*99/100], found: found,
	}
}

// better returns whichever of a and b has the lower p50 (ties: lower mean).
func (l latencies) better(o latencies) latencies {
	if l.n == 0 || (o.n != 0 && (o.p50 < l.p50 || (o.p50 == l.p50 && o.mean < l.mean))) {
		return o
	}
	return l
}
