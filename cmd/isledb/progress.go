package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar on a terminal-like writer.
type progress struct {
	w     io.Writer
	label string
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	now := time.Now()
	return &progress{w: w, label: label, total: total, start: now}
}

// update redraws the bar at most every 100ms (and always at the end).
func (p *progress) update(done int) {
	now := time.Now()
	if done < p.total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	filled := width * done / max(p.total, 1)
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r%-10s [%s%s] %3d%% %9d/%d  %10.0f/s", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*done/max(p.total, 1), done, p.total, rate)
	if done >= p.total {
		fmt.Fprintln(p.w)
	}
}
