package benchkit

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/isledb/isledb/blobstore"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100_000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}, {1, 100 * time.Millisecond}} {
		got := h.Quantile(tc.q)
		if rel := math.Abs(float64(got-tc.want)) / float64(tc.want); rel > 0.01 {
			t.Errorf("Quantile(%v) = %v, want %v ±1%%", tc.q, got, tc.want)
		}
	}
	if m := h.Mean(); m < 49*time.Millisecond || m > 51*time.Millisecond {
		t.Errorf("Mean = %v, want about 50ms", m)
	}
	var small Histogram
	for _, v := range []time.Duration{5, 5, 5, 100} {
		small.Record(v)
	}
	if got := small.Quantile(0.5); got != 5 {
		t.Errorf("exact small values: p50 = %v, want 5ns", got)
	}
	var merged Histogram
	merged.Merge(&small)
	merged.Merge(&h)
	if merged.Count() != h.Count()+4 || merged.Max() != h.Max() {
		t.Errorf("Merge: count %d max %v", merged.Count(), merged.Max())
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram: want zeros")
	}
}

func TestBucketsRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, math.MaxInt64} {
		i := bucketOf(v)
		lo, w := bucketRange(i)
		if v < lo || v-lo >= w {
			t.Errorf("value %d: bucket %d is [%d, %d+%d)", v, i, lo, lo, w)
		}
		if i >= numBuckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
	}
}

func TestCost(t *testing.T) {
	r := Requests{Get: 600, RangedGet: 300, Head: 100, Put: 150, CondPut: 50, List: 800, Delete: 1_000_000}
	// 1,000 writes at $0.005/1000 plus 1,000 reads at $0.0004/1000; deletes are free.
	if got, want := r.CostUSD(), 0.005+0.0004; math.Abs(got-want) > 1e-12 {
		t.Errorf("CostUSD = %v, want %v", got, want)
	}
	if got, want := CostPerMillionOps(r, 10_000), (0.005+0.0004)*100; math.Abs(got-want) > 1e-9 {
		t.Errorf("CostPerMillionOps = %v, want %v", got, want)
	}
	rates := r.PerOps(2000, 1000)
	if rates.Get != 300 || rates.Put != 75 || rates.List != 400 {
		t.Errorf("PerOps = %+v", rates)
	}
	// A million PUTs cost $5; a million GETs $0.40.
	if got := (Requests{Put: 1_000_000}).CostUSD(); math.Abs(got-5) > 1e-9 {
		t.Errorf("1M PUT = $%v, want $5", got)
	}
	if got := (Requests{Get: 1_000_000}).CostUSD(); math.Abs(got-0.4) > 1e-9 {
		t.Errorf("1M GET = $%v, want $0.40", got)
	}
}

func TestSimBackendLatency(t *testing.T) {
	opts := SimOptions{Get: Latency{P50: 2 * time.Millisecond, P99: 6 * time.Millisecond}, Put: Latency{P50: time.Millisecond, P99: 3 * time.Millisecond}}
	var h Histogram
	opts.EnsureDefaults()
	b := NewSimBackend(blobstore.NewMemory("").Backend(), opts)
	for range 20_000 {
		b.mu.Lock()
		d := opts.Get.sample(b.mu.rng)
		b.mu.Unlock()
		h.Record(d)
	}
	if p50 := h.Quantile(0.5); p50 < 1900*time.Microsecond || p50 > 2100*time.Microsecond {
		t.Errorf("sampled p50 %v, want about 2ms", p50)
	}
	if p99 := h.Quantile(0.99); p99 < 5*time.Millisecond || p99 > 7*time.Millisecond {
		t.Errorf("sampled p99 %v, want about 6ms", p99)
	}
	store := blobstore.NewWithBackend(b, "sim", "p")
	ctx := context.Background()
	start := time.Now()
	if _, err := store.Write(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	data, _, err := store.Read(ctx, "k")
	if err != nil || string(data) != "v" {
		t.Fatalf("Read = %q, %v", data, err)
	}
	if el := time.Since(start); el < time.Millisecond {
		t.Errorf("a PUT and a GET took %v: no latency added", el)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := b.Get(cctx, "p/k", 0, -1); err == nil {
		t.Error("Get with a cancelled context succeeded")
	}
}

func TestKeys(t *testing.T) {
	for _, size := range []int{8, 16, 20} {
		g := keyGen{size}
		seen := map[string]bool{}
		for i := range 10_000 {
			k := string(g.randomKey(nil, i))
			if len(k) != size || seen[k] {
				t.Fatalf("size %d: key %d is %x (duplicate %v)", size, i, k, seen[k])
			}
			seen[k] = true
		}
		if a, b := g.seqKey(nil, 9), g.seqKey(nil, 10); bytes.Compare(a, b) >= 0 || len(a) != size {
			t.Errorf("seqKey not ascending: %x, %x", a, b)
		}
	}
}

// TestRunMemory runs every workload with tiny sizes on IsleDB's memory backend.
func TestRunMemory(t *testing.T) {
	cfg := Config{Keys: 3000, Reads: 500, ColdReads: 100, Scans: 50, TailSamples: 5, Concurrency: 2}
	op, cleanup, err := IsleDBOpener(IsleDBOptions{Backend: "memory", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	var progressed []string
	cfg.Progress = func(w string, n int) func(int) {
		progressed = append(progressed, w)
		return func(int) {}
	}
	results, err := Run(context.Background(), cfg, op)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(Workloads) {
		t.Fatalf("got %d results, want %d", len(results), len(Workloads))
	}
	for i, r := range results {
		if r.Workload != Workloads[i] || r.Ops <= 0 || r.OpsPerSec <= 0 || r.P50Us <= 0 || r.P99Us < r.P50Us || r.P999Us < r.P99Us {
			t.Errorf("result %d: %+v", i, r)
		}
		if r.Requests == nil || r.CostPerMillionOps == nil {
			t.Errorf("%s: no request accounting", r.Workload)
		}
	}
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Workload] = r
	}
	if fr := byName[FillRandom]; fr.Requests.Put+fr.Requests.CondPut == 0 || fr.UploadPerLogicalByte <= 0 {
		t.Errorf("fillrandom uploaded nothing: %+v", fr.Requests)
	}
	if c := byName[ReadRandomCold]; c.Requests.Get+c.Requests.RangedGet == 0 {
		t.Errorf("cold reads sent no GET: %+v", c.Requests)
	}
	if len(progressed) == 0 {
		t.Error("Progress never called")
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, results); err != nil || !strings.Contains(buf.String(), "readrandom-cold") {
		t.Errorf("table: %v\n%s", err, buf.String())
	}
	buf.Reset()
	if err := NewReport("test", results).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil || len(rep.Results) != len(results) {
		t.Fatalf("JSON round trip: %v", err)
	}
	buf.Reset()
	if err := WriteSVG(&buf, "test", results); err != nil || !strings.HasPrefix(buf.String(), "<svg") {
		t.Errorf("svg: %v", err)
	}
}

// TestRunSim checks the simulated store slows IsleDB down and the ratios arithmetic.
func TestRunSim(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Keys: 500, Reads: 50, ColdReads: 20, Scans: 10, Concurrency: 4, Workloads: []string{FillRandom, ReadRandomCold}}
	sim := SimOptions{Get: Latency{P50: 2 * time.Millisecond, P99: 5 * time.Millisecond}, Put: Latency{P50: 2 * time.Millisecond, P99: 5 * time.Millisecond}}
	op, cleanup, err := IsleDBOpener(IsleDBOptions{Backend: "sim-s3", Dir: t.TempDir(), Sim: sim})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	results, err := Run(ctx, cfg, op)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[1].MaxUs < 1500 { // the first read fetches the SST
		t.Fatalf("cold reads on the simulated store: %+v", results)
	}
	peer := results[1]
	peer.Engine, peer.OpsPerSec, peer.P99Us = "peer", results[1].OpsPerSec/2, results[1].P99Us*4
	rs := Ratios(append(results, peer), "isledb")
	if len(rs) != 1 || math.Abs(rs[0].OpsPerSec-2) > 1e-9 || math.Abs(rs[0].P99-0.25) > 1e-9 {
		t.Errorf("Ratios = %+v", rs)
	}
}
