package isledb_test

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
)

// BenchmarkTailLatency measures write-to-delivery latency (Put → automatic flush →
// refresh → Tail handler) with FlushInterval 100ms and RefreshInterval 50ms, on each
// backend (MinIO when ISLEDB_TEST_S3_ENDPOINT is set), and the requests an idle tailer
// makes per second once it has backed off (its IdleRefreshInterval is the default 8 ×
// 50ms; a default tailer, 1s and 8s, makes 50/400 = 1/8 as many). Reported: p50-ms,
// p99-ms, idle-req/s, and default-idle-req/s (the same scaled to the default intervals).
func BenchmarkTailLatency(b *testing.B) {
	for _, be := range testutil.Backends(testutil.Core) {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			store := be.Open(b)
			db, _ := isledb.OpenDB(ctx, store, isledb.DBOptions{})
			defer db.Close()
			wopts := isledb.DefaultWriterOptions()
			wopts.FlushInterval = 100 * time.Millisecond
			w, err := db.OpenWriter(ctx, wopts)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			tr, err := isledb.OpenTailingReader(ctx, store, isledb.TailingReaderOpenOptions{
				RefreshInterval: 50 * time.Millisecond,
				ReaderOptions:   isledb.ReaderOpenOptions{CacheDir: b.TempDir()},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			_ = tr.Start()
			const events = 200
			lat := make([]time.Duration, 0, events)
			done := make(chan error, 1)
			stop := errors.New("stop")
			b.ResetTimer()
			go func() {
				done <- tr.Tail(ctx, isledb.TailOptions{PollInterval: 50 * time.Millisecond}, func(kv isledb.KV) error {
					sent := time.Unix(0, int64(binary.BigEndian.Uint64(kv.Value)))
					lat = append(lat, time.Since(sent))
					if len(lat) == events {
						return stop
					}
					return nil
				})
			}()
			for i := range events {
				v := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
				if err := w.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), v); err != nil {
					b.Fatal(err)
				}
				time.Sleep(7 * time.Millisecond) // spread the writes over many flushes
			}
			if err := <-done; !errors.Is(err, stop) {
				b.Fatal(err)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			// Idle: no writes; let the tailer back off (8 empty refreshes, then 100, 200 and
			// 400 ms waits), then count its requests for 4 s.
			time.Sleep(1500 * time.Millisecond)
			before := store.Stats()
			const idleFor = 4 * time.Second
			time.Sleep(idleFor)
			d := store.Stats().Sub(before)
			rate := float64(d.Requests()) / idleFor.Seconds()
			b.ReportMetric(rate, "idle-req/s")
			b.ReportMetric(rate*0.05, "default-idle-req/s")
		})
	}
}
