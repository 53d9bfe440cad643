package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress draws a one-line progress bar on a terminal-like writer. The verbs create one
// only when Env.Terminal is set; cmd/isledb's demo and bench use it too.
type Progress struct {
	w          io.Writer
	label      string
	labelWidth int  // the label is padded to this many columns
	countWidth int  // the done count is padded to this many columns (0: none)
	rate       bool // also show the items per second since the bar was created
	total      int
	start      time.Time
	last       time.Time
}

// NewProgress returns the verbs' bar, counting to total:
//
//	verify   [############..................]  40% 4/10
func NewProgress(w io.Writer, label string, total int) *Progress {
	return &Progress{w: w, label: label, labelWidth: 8, total: total, start: time.Now()}
}

// NewRateProgress returns a bar with wider columns for large counts that also shows the
// rate since it was created (cmd/isledb's demo and bench):
//
//	put        [############..................]  40%      4000/10000        2000/s
func NewRateProgress(w io.Writer, label string, total int) *Progress {
	return &Progress{w: w, label: label, labelWidth: 10, countWidth: 9, rate: true, total: total, start: time.Now()}
}

// Update redraws the bar for done items of total, at most every 100ms and always at the
// end (done >= total), where it ends the line.
func (p *Progress) Update(done int) {
	now := time.Now()
	if done < p.total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	filled := width * done / max(p.total, 1)
	line := fmt.Sprintf("\r%-*s [%s%s] %3d%% %*d/%d", p.labelWidth, p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*done/max(p.total, 1), p.countWidth, done, p.total)
	if p.rate {
		line += fmt.Sprintf("  %10.0f/s", float64(done)/max(now.Sub(p.start).Seconds(), 1e-9))
	}
	_, _ = io.WriteString(p.w, line)
	if done >= p.total {
		fmt.Fprintln(p.w)
	}
}
