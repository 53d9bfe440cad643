package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/isledb/isledb"
)

func init() {
	register(verb{name: "serve-metrics", args: "[-listen ADDR] [-interval D]",
		summary: "serve Prometheus metrics of the database at http://ADDR/metrics: a reader refreshing every D (manifest shape, refresh lag, caches, requests) and its bucket requests", run: runServeMetrics})
}

func runServeMetrics(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("serve-metrics")
	listen := fs.String("listen", "127.0.0.1:9464", "the `address` to listen on")
	interval := fs.Duration("interval", 10*time.Second, "how often the reader refreshes its manifest")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *interval <= 0 {
		return usageErr("-interval %v: want a positive duration", *interval)
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	is, err := isledb.InstrumentStore(s, isledb.NewBlobStoreMetrics(reg, nil))
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tr, done, err := c.tailingReader(ctx, is, *interval, func(o *isledb.ReaderOpenOptions) {
		o.Metrics = isledb.NewReaderMetrics(reg, nil)
		o.Logger = logger
	})
	if err != nil {
		return err
	}
	defer done()
	if err := tr.Start(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.stdout, "serving metrics on http://%s/metrics\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
