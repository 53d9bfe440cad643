package cli

import (
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/isledb/isledb/internal/testutil"
)

// browser returns a headless Chromium, or skips the test.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-headless-shell", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: the view's browser rendering is not checked (apt-get install chromium)")
	return ""
}

// runBrowser runs chromium with args, retrying a browser that a signal killed at start-up
// (it happens under load on CI machines); other failures fail at once.
func runBrowser(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		profile := t.TempDir()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--headless", "--no-sandbox", "--disable-gpu",
			"--hide-scrollbars", "--no-first-run", "--user-data-dir=" + profile}, args...)...)
		out, err := cmd.Output()
		cancel()
		if err == nil {
			return out
		}
		lastErr = err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ctx.Err() == nil {
				t.Logf("chromium killed by %v, retrying", ws.Signal())
				continue
			}
			t.Fatalf("chromium %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("chromium %v: %v", args, err)
	}
	t.Fatalf("chromium kept dying: %v", lastErr)
	return nil
}

// TestViewInBrowser renders the view in headless Chromium: the browser's DOM holds every
// SST rectangle, and a screenshot comes out at the asked size.
func TestViewInBrowser(t *testing.T) {
	bin := browser(t)
	f := newFixture(t, testutil.Backends(testutil.Core)[1]) // file
	f.populate()
	dir := t.TempDir()
	page := filepath.Join(dir, "tree.html")
	f.must(ExitOK, "view", "-o", page)
	dom := string(runBrowser(t, bin, "--dump-dom", "file://"+page))
	if n := strings.Count(dom, `<rect class="sst `); n != 3 {
		t.Errorf("the browser's DOM has %d SST rectangles, want 3:\n%s", n, dom)
	}
	wantContains(t, dom, "<svg", "k00 .. k09")
	shot := filepath.Join(dir, "tree.png")
	runBrowser(t, bin, "--window-size=800,450", "--screenshot="+shot, "file://"+page)
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != 800 || b.Dy() != 450 {
		t.Errorf("screenshot is %v, want 800x450", b)
	}
	// The SSTs were just written: drawn in the colour of "under a minute" (#2b83ba).
	blue := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, 0x2b) && near(g>>8, 0x83) && near(bl>>8, 0xba) {
				blue++
			}
		}
	}
	if blue < 1000 {
		t.Errorf("the screenshot shows %d pixels of the SSTs' colour: the SVG did not render", blue)
	}
}

func near(a uint32, b uint32) bool { return a+6 >= b && a <= b+6 }
