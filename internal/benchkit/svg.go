package benchkit

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// seriesName names a result's bar: the engine, with the backend when the results hold
// more than one backend for that engine.
func seriesNames(results []Result) func(Result) string {
	backends := map[string]map[string]bool{}
	for _, r := range results {
		if backends[r.Engine] == nil {
			backends[r.Engine] = map[string]bool{}
		}
		backends[r.Engine][r.Backend] = true
	}
	return func(r Result) string {
		if len(backends[r.Engine]) > 1 {
			return r.Engine + " (" + r.Backend + ")"
		}
		return r.Engine
	}
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

// WriteSVG draws two grouped bar charts, throughput (ops/s) and p99 latency, one group
// per workload and one bar per engine, on log scales, as a standalone SVG document.
func WriteSVG(w io.Writer, title string, results []Result) error {
	name := seriesNames(results)
	var series, workloads []string
	val := map[[2]string]Result{}
	for _, r := range results {
		s := name(r)
		if !contains(series, s) {
			series = append(series, s)
		}
		if !contains(workloads, r.Workload) {
			workloads = append(workloads, r.Workload)
		}
		val[[2]string{r.Workload, s}] = r
	}
	const (
		panelH = 260
		top    = 50
		left   = 80
		gap    = 90
		barW   = 12
	)
	groupW := max(len(series)*barW+16, 60)
	plotW := len(workloads) * groupW
	width := left + plotW + 180
	height := top + 2*panelH + 2*gap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	panels := []struct {
		label string
		get   func(Result) float64
		unit  func(float64) string
	}{
		{"throughput, ops/s (log scale, higher is better)", func(r Result) float64 { return r.OpsPerSec }, fmtRate},
		{"p99 latency (log scale, lower is better)", func(r Result) float64 { return r.P99Us }, fmtUs},
	}
	for pi, p := range panels {
		y0 := top + pi*(panelH+gap) // panel top
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range results {
			if v := p.get(r); v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if math.IsInf(lo, 0) {
			continue
		}
		dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dhi == dlo {
			dhi++
		}
		yOf := func(v float64) float64 {
			return float64(y0+panelH) - (math.Log10(v)-dlo)/(dhi-dlo)*panelH
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13">%s</text>`+"\n", left, y0-8, html.EscapeString(p.label))
		for d := dlo; d <= dhi; d++ {
			y := yOf(math.Pow(10, d))
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, left+plotW, y, y)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, p.unit(math.Pow(10, d)))
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", left, left+plotW, y0+panelH, y0+panelH)
		for wi, wl := range workloads {
			gx := left + wi*groupW + 8
			for si, s := range series {
				r, ok := val[[2]string{wl, s}]
				v := p.get(r)
				if !ok || v <= 0 {
					continue
				}
				y := yOf(v)
				fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
					gx+si*barW, y, barW-2, float64(y0+panelH)-y, palette[si%len(palette)],
					html.EscapeString(s), wl, p.unit(v))
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" transform="rotate(-30 %d %d)">%s</text>`+"\n",
				gx+groupW/2, y0+panelH+14, gx+groupW/2, y0+panelH+14, html.EscapeString(wl))
		}
	}
	for si, s := range series {
		y := top + si*18
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			left+plotW+20, y, palette[si%len(palette)], left+plotW+38, y+10, html.EscapeString(s))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
