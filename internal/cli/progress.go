package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar; verbs create one only when Env.Terminal is set.
type progress struct {
	w     io.Writer
	label string
	total int
	last  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total}
}

// update redraws the bar at most every 100ms, and at the end.
func (p *progress) update(done int) {
	now := time.Now()
	if done < p.total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	filled := width * done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r%-8s [%s%s] %3d%% %d/%d", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*done/max(p.total, 1), done, p.total)
	if done >= p.total {
		fmt.Fprintln(p.w)
	}
}
