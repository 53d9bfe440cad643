package engine

import "testing"

// Every benchmark does its whole workload once per iteration (run with -benchtime 1x)
// and overrides ns/op with the per-operation figure; with more iterations it reports the
// best one.

var putEngines = []string{"isledb", "pebble-wal", "pebble-nowal"}

func runPut(tb testing.TB, eng string) putResult {
	switch eng {
	case "isledb":
		return islePut(tb)
	case "pebble-wal":
		return pebblePut(tb, true)
	default:
		return pebblePut(tb, false)
	}
}

// BenchmarkPut loads the 1M keys into a new database: Put calls, then the final Flush.
func BenchmarkPut(b *testing.B) {
	getData()
	for _, eng := range putEngines {
		b.Run(eng, func(b *testing.B) {
			var best putResult
			for range b.N {
				best = best.better(runPut(b, eng))
			}
			b.ReportMetric(float64(best.put.Nanoseconds())/float64(best.n), "ns/op")
			b.ReportMetric(best.putOpsPerSec(), "puts/s")
			b.ReportMetric(best.putMBPerSec(), "MB/s")
			b.ReportMetric(float64(best.flush.Microseconds())/1e3, "final-flush-ms")
			b.ReportMetric(best.totalOpsPerSec(), "puts+flush/s")
			b.ReportMetric(float64(best.stalls), "stalls")
			b.Logf("%s: %d puts in %v, final flush %v; %s", eng, best.n, best.put, best.flush, best.layout)
		})
	}
}

// BenchmarkFlush times Flush of one full memtable (flushKeys entries).
func BenchmarkFlush(b *testing.B) {
	getData()
	for _, eng := range []string{"isledb", "pebble"} {
		b.Run(eng, func(b *testing.B) {
			var best flushResult
			for range b.N {
				if eng == "isledb" {
					best = best.better(isleFlush(b))
				} else {
					best = best.better(pebbleFlush(b))
				}
			}
			b.ReportMetric(float64(best.flush.Nanoseconds()), "ns/op")
			b.ReportMetric(float64(best.flush.Microseconds())/1e3, "flush-ms")
			b.ReportMetric(best.mbPerSec(), "MB/s")
			b.Logf("%s: flush of %d entries in %v; %s", eng, best.n, best.flush, best.detail)
		})
	}
}

func readers(b *testing.B) []struct {
	name string
	r    kvReader
} {
	getData()
	return []struct {
		name string
		r    kvReader
	}{{"isledb", getIsleFixture(b).reader}, {"pebble", getPebbleFixture(b).reader}}
}

func reportLatency(b *testing.B, l latencies) {
	b.ReportMetric(float64(l.mean.Nanoseconds()), "ns/op")
	b.ReportMetric(float64(l.p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(l.p99.Nanoseconds()), "p99-ns")
}

func benchGets(b *testing.B, present bool) {
	keys := getData().getKeys
	if !present {
		keys = getData().absent
	}
	for _, e := range readers(b) {
		b.Run(e.name, func(b *testing.B) {
			var best latencies
			for range b.N {
				settle()
				l, err := timeGets(e.r, keys, present)
				if err != nil {
					b.Fatal(err)
				}
				best = best.better(l)
			}
			reportLatency(b, best)
			if ir, ok := e.r.(*isleReader); ok {
				b.Logf("isledb %s; %v", getIsleFixture(b).layout, ir.r.SSTCacheStats())
			} else {
				b.Logf("pebble %s", getPebbleFixture(b).layout)
			}
		})
	}
}

// BenchmarkGetWarm: numGets random present keys, every block cached.
func BenchmarkGetWarm(b *testing.B) { benchGets(b, true) }

// BenchmarkGetAbsent: numGets random keys that are not in the database.
func BenchmarkGetAbsent(b *testing.B) { benchGets(b, false) }

// BenchmarkScanFull iterates over every key; ns/op is per key.
func BenchmarkScanFull(b *testing.B) {
	for _, e := range readers(b) {
		b.Run(e.name, func(b *testing.B) {
			var best scanResult
			for range b.N {
				settle()
				s, err := timeFullScan(e.r)
				if err != nil {
					b.Fatal(err)
				}
				best = best.better(s)
			}
			b.ReportMetric(float64(best.dur.Nanoseconds())/float64(best.keys), "ns/op")
			b.ReportMetric(best.keysPerSec(), "keys/s")
		})
	}
}

// BenchmarkScanRange100 does numScans scans of 100 keys from random starts; ns/op is
// per scan (iterator creation, seek, 100 steps, close).
func BenchmarkScanRange100(b *testing.B) {
	for _, e := range readers(b) {
		b.Run(e.name, func(b *testing.B) {
			var best scanResult
			for range b.N {
				settle()
				s, err := timeRangeScans(e.r)
				if err != nil {
					b.Fatal(err)
				}
				best = best.better(s)
			}
			b.ReportMetric(float64(best.perScan().Nanoseconds()), "ns/op")
			b.ReportMetric(best.keysPerSec(), "keys/s")
		})
	}
}

// coldModes are the RangeReadMinSSTSize settings of the cold-read benchmark.
var coldModes = []struct {
	name     string
	rangeMin int64
}{
	{"range", 1},       // every SST read by range
	{"whole", 1 << 50}, // every SST downloaded whole into the cache dir
	{"default", 0},     // 4 MiB: these SSTs (tens of MiB) are read by range
}

// BenchmarkGetCold counts the requests of numColdGets random gets on a fresh IsleDB
// reader (empty cache dir); ns/op is the mean latency of those gets (file backend).
func BenchmarkGetCold(b *testing.B) {
	getData()
	for _, m := range coldModes {
		b.Run("isledb-"+m.name, func(b *testing.B) {
			var c coldResult
			for range b.N {
				c = isleCold(b, m.name, m.rangeMin)
			}
			b.ReportMetric(float64(c.getTime.Nanoseconds()), "ns/op")
			b.ReportMetric(perGet(c.gets.RangedGets), "ranged-GETs/get")
			b.ReportMetric(perGet(c.gets.Gets), "GETs/get")
			b.ReportMetric(perGet(c.gets.BytesRead), "bytes/get")
			b.ReportMetric(perGet(c.absent.Requests()), "reqs/absent-get")
			b.ReportMetric(float64(c.firstTouch.Requests()), "first-get-reqs")
			b.Log(c)
		})
	}
}
