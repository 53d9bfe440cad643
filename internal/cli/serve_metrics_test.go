package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/isledb/isledb/internal/testutil"
)

// TestServeMetrics starts serve-metrics on a free port, scrapes it, and stops it.
func TestServeMetrics(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		f.populate()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pr, pw := io.Pipe()
		f.env.Stdout = pw
		done := make(chan int, 1)
		var errs strings.Builder
		go func() {
			env := f.env
			env.Stderr = &errs
			env.Getenv = func(string) string { return "" }
			code := Run(ctx, env, []string{"-url", f.url, "-prefix", f.prefix, "serve-metrics", "-listen", "127.0.0.1:0", "-interval", "1h"})
			_ = pw.Close()
			done <- code
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatalf("no address: %v (exit %d: %s)", err, <-done, errs.String())
		}
		url := strings.TrimSpace(strings.TrimPrefix(line, "serving metrics on "))
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("exit %d: %s", code, errs.String())
		}
		wantContains(t, string(body), "isledb_reader_l0_ssts 3\n", "isledb_reader_sorted_runs 0\n",
			`isledb_blobstore_requests_total{kind="list",outcome="ok"}`, "isledb_reader_refresh_lag_seconds ", "go_goroutines ")
	})
}
