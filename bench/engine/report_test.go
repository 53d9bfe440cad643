package engine

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEngineReport runs every measurement for both engines in this process, repeats the
// timed ones ISLEDB_BENCH_REPEAT times (default 3, engines interleaved so that they see
// the same machine load), keeps the best of each, and prints a markdown table.
func TestEngineReport(t *testing.T) {
	if os.Getenv("ISLEDB_BENCH_REPORT") != "1" {
		t.Skip("set ISLEDB_BENCH_REPORT=1 to run the engine comparison (a few minutes)")
	}
	reps := 3
	if s := os.Getenv("ISLEDB_BENCH_REPEAT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("ISLEDB_BENCH_REPEAT=%q", s)
		}
		reps = n
	}
	began, loadBefore := time.Now(), loadAvg()
	getData()

	var ip, pw, pn putResult
	var ifl, pfl flushResult
	for rep := range reps {
		ip = ip.better(islePut(t))
		pw = pw.better(pebblePut(t, true))
		pn = pn.better(pebblePut(t, false))
		ifl = ifl.better(isleFlush(t))
		pfl = pfl.better(pebbleFlush(t))
		t.Logf("write pass %d/%d done at %v (load %s)", rep+1, reps, time.Since(began).Round(time.Second), loadAvg())
	}

	fi, fp := getIsleFixture(t), getPebbleFixture(t)
	var igw, pgw, iga, pga latencies
	var isf, psf, isr, psr scanResult
	for rep := range reps {
		for _, e := range []struct {
			r          kvReader
			warm, miss *latencies
			full, rng  *scanResult
		}{{fi.reader, &igw, &iga, &isf, &isr}, {fp.reader, &pgw, &pga, &psf, &psr}} {
			settle()
			l, err := timeGets(e.r, getData().getKeys, true)
			if err != nil {
				t.Fatal(err)
			}
			*e.warm = e.warm.better(l)
			if l, err = timeGets(e.r, getData().absent, false); err != nil {
				t.Fatal(err)
			}
			*e.miss = e.miss.better(l)
			s, err := timeFullScan(e.r)
			if err != nil {
				t.Fatal(err)
			}
			*e.full = e.full.better(s)
			if s, err = timeRangeScans(e.r); err != nil {
				t.Fatal(err)
			}
			*e.rng = e.rng.better(s)
		}
		t.Logf("read pass %d/%d done at %v (load %s)", rep+1, reps, time.Since(began).Round(time.Second), loadAvg())
	}
	var colds []coldResult
	for _, m := range coldModes {
		colds = append(colds, isleCold(t, m.name, m.rangeMin))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n### IsleDB vs Pebble v2.1.7, file backend, %d random 16-byte keys, 100-byte values (~50%% compressible)\n\n", numKeys)
	fmt.Fprintf(&b, "%s, GOMAXPROCS %d, %d CPUs; load average %s before, %s after; best of %d; took %v\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), loadBefore, loadAvg(), reps, time.Since(began).Round(time.Second))
	fmt.Fprintln(&b, "| metric | isledb | pebble | ratio (isledb/pebble) |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|")
	row := func(name string, i, p float64, format string) {
		fmt.Fprintf(&b, "| %s | "+format+" | "+format+" | %.2f× |\n", name, i, p, i/p)
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	row("Put ops/s, 1M keys (↑) vs Pebble WAL on, NoSync", ip.putOpsPerSec(), pw.putOpsPerSec(), "%.0f")
	row("Put ops/s (↑) vs Pebble DisableWAL", ip.putOpsPerSec(), pn.putOpsPerSec(), "%.0f")
	row("Put MB/s of keys+values (↑) vs Pebble WAL on", ip.putMBPerSec(), pw.putMBPerSec(), "%.1f")
	row("Put MB/s (↑) vs Pebble DisableWAL", ip.putMBPerSec(), pn.putMBPerSec(), "%.1f")
	row("final Flush after 1M Puts, ms (↓) vs Pebble WAL on", ms(ip.flush), ms(pw.flush), "%.0f")
	row("Puts incl. final Flush, ops/s (↑) vs Pebble WAL on", ip.totalOpsPerSec(), pw.totalOpsPerSec(), "%.0f")
	row(fmt.Sprintf("Flush of a full memtable (%dk entries), ms (↓)", flushKeys/1000), ms(ifl.flush), ms(pfl.flush), "%.0f")
	row("Flush MB/s of keys+values (↑)", ifl.mbPerSec(), pfl.mbPerSec(), "%.1f")
	row("warm Get p50, µs (↓)", us(igw.p50), us(pgw.p50), "%.2f")
	row("warm Get p99, µs (↓)", us(igw.p99), us(pgw.p99), "%.2f")
	row("warm Get mean, µs (↓)", us(igw.mean), us(pgw.mean), "%.2f")
	row("absent-key Get mean, µs (↓)", us(iga.mean), us(pga.mean), "%.2f")
	row("absent-key Get p50, µs (↓)", us(iga.p50), us(pga.p50), "%.2f")
	row("absent-key Get p99, µs (↓)", us(iga.p99), us(pga.p99), "%.2f")
	row("full scan, keys/s (↑)", isf.keysPerSec(), psf.keysPerSec(), "%.0f")
	row(fmt.Sprintf("%d-key range scan, µs per scan (↓)", scanLen), us(isr.perScan()), us(psr.perScan()), "%.1f")
	row(fmt.Sprintf("%d-key range scans, keys/s (↑)", scanLen), isr.keysPerSec(), psr.keysPerSec(), "%.0f")

	fmt.Fprintf(&b, "\nLayouts: Put load: isledb %s, stalls %d; pebble (WAL) %s. Flush: isledb %s; pebble %s (filler included).\n",
		ip.layout, ip.stalls, pw.layout, ifl.detail, pfl.detail)
	fmt.Fprintf(&b, "Reads: isledb %s (written with FlushInterval -1); pebble %s (flushed, compacted).\n", fi.layout, fp.layout)
	fmt.Fprintf(&b, "\n#### IsleDB cold gets (fresh reader, empty CacheDir, %d random present keys, then %d absent)\n\n", numColdGets, numColdGets)
	fmt.Fprintln(&b, "| RangeReadMinSSTSize | SSTs | OpenReader requests | first Get (opens every SST) | ranged GETs / get | GETs / get | bytes / get | absent: requests / get | µs / get |")
	fmt.Fprintln(&b, "|---|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, c := range colds {
		fmt.Fprintf(&b, "| %s | %d | %d | %d GET + %d ranged GET, %.0f KiB | %.3f | %.3f | %.0f | %.3f | %.1f |\n",
			c.mode, c.ssts, c.open.Requests(), c.firstTouch.Gets, c.firstTouch.RangedGets, float64(c.firstTouch.BytesRead)/1024,
			perGet(c.gets.RangedGets), perGet(c.gets.Gets), perGet(c.gets.BytesRead), perGet(c.absent.Requests()), us(c.getTime))
	}
	check := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(&b, "\nTargets: Put ≥ Pebble (WAL on): %s (%.2f×; vs DisableWAL %.2f×); warm Get p50 ≤ 3 µs: %s (%.2f µs); "+
		"absent Get ≤ 0.5 µs: %s (mean %.2f µs, p50 %.2f µs); cold Get = 1 ranged GET: %s (%.3f)\n",
		check(ip.putOpsPerSec() >= pw.putOpsPerSec()), ip.putOpsPerSec()/pw.putOpsPerSec(), ip.putOpsPerSec()/pn.putOpsPerSec(),
		check(igw.p50 <= 3*time.Microsecond), us(igw.p50),
		check(iga.mean <= 500*time.Nanosecond), us(iga.mean), us(iga.p50),
		check(perGet(colds[0].gets.RangedGets) <= 1.0), perGet(colds[0].gets.RangedGets))
	fmt.Println(b.String())
}
