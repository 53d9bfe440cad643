package cli

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"os"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/manifest"
)

func init() {
	register(verb{name: "view", args: "[-o FILE] [-grace D]",
		summary: "write a self-contained HTML page picturing the tree: L0 and each sorted run as rows of SSTs (width by size), key ranges, ages, and what GC would remove", run: runView})
}

func runView(ctx context.Context, c *cmd, args []string) error {
	fs := c.flags("view")
	out := fs.String("o", "tree.html", "the output `file` (\"-\": standard output)")
	grace := fs.Duration("grace", isledb.DefaultGCGracePeriod, "the GC grace period assumed for the GC row")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	s, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := replay(ctx, s)
	if err != nil {
		return err
	}
	db, err := isledb.OpenDB(ctx, s, isledb.DBOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	plan, err := db.PlanGC(ctx, *grace)
	if err != nil {
		return err
	}
	page := buildView(m, plan, c.url, c.prefix, time.Now())
	if *out == "-" {
		return renderView(c.stdout, page)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := renderView(f, page); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s: %d L0 SSTs, %d sorted runs, %d SSTs out of the manifest\n", *out, len(m.L0SSTs), len(m.SortedRuns), len(plan.SSTs))
	return nil
}

// The picture's geometry, in SVG user units.
const (
	viewWidth  = 1000
	viewLabelW = 110
	viewRowH   = 46
	viewGap    = 2
	viewMinW   = 3
)

type viewPage struct {
	Title     string
	Generated string
	Summary   string
	Width     int
	Height    int
	RowH      int
	Rows      []viewRow
	Table     []viewSST
}

type viewRow struct {
	Label string
	Note  string
	Y     int
	TextY int
	SSTs  []viewSST
}

type viewSST struct {
	ID, Where, Size, Keys, Seqs, Age, Tip, Label, Class, GC string
	X, Y, W, TextX, TextY                                   int
}

// ageClass buckets an age for the colour of an SST.
func ageClass(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "age0"
	case d < time.Hour:
		return "age1"
	case d < 24*time.Hour:
		return "age2"
	}
	return "age3"
}

func buildView(m *manifest.Manifest, plan *isledb.GCPlan, url, prefix string, now time.Time) viewPage {
	type rowIn struct {
		label, note string
		ssts        []viewSST
		sizes       []int64
	}
	sstView := func(s *manifest.SSTMeta, where string) viewSST {
		v := viewSST{ID: s.ID, Where: where, Size: size(s.Size), Keys: show(s.MinKey) + " .. " + show(s.MaxKey),
			Seqs: fmt.Sprintf("%d-%d", s.SeqLo, s.SeqHi), Age: age(now, s.CreatedAt), Class: ageClass(now.Sub(s.CreatedAt)), GC: "-"}
		v.Tip = fmt.Sprintf("%s (%s)\n%s, %d entries\nkeys %s\nseqs %s\ncreated %s", s.ID, where, v.Size, s.EntryCount, v.Keys, v.Seqs, v.Age)
		v.Label = v.Keys
		return v
	}
	var rows []rowIn
	var l0 rowIn
	l0.label, l0.note = "L0", fmt.Sprintf("%d SSTs, newest left", len(m.L0SSTs))
	for i := range m.L0SSTs {
		l0.ssts = append(l0.ssts, sstView(&m.L0SSTs[i], "L0"))
		l0.sizes = append(l0.sizes, m.L0SSTs[i].Size)
	}
	rows = append(rows, l0)
	for _, r := range m.SortedRuns {
		ri := rowIn{label: fmt.Sprintf("run %d", r.ID)}
		var b int64
		for i := range r.SSTs {
			ri.ssts = append(ri.ssts, sstView(&r.SSTs[i], ri.label))
			ri.sizes = append(ri.sizes, r.SSTs[i].Size)
			b += r.SSTs[i].Size
		}
		ri.note = fmt.Sprintf("%d SSTs, %s", len(r.SSTs), size(b))
		rows = append(rows, ri)
	}
	gc := rowIn{label: "GC"}
	del, delBytes := plan.Deletable()
	gc.note = fmt.Sprintf("%d out of the manifest; %d (%s) deletable now", len(plan.SSTs), len(del), size(delBytes))
	for _, s := range plan.SSTs {
		v := viewSST{ID: s.ID, Where: "out of the manifest", Size: size(s.Size), Keys: "-", Seqs: "-", Age: age(now, s.ModTime)}
		switch {
		case s.InFlight:
			v.Class, v.GC = "gcflight", "flush in flight: kept"
		case s.Deletable:
			v.Class, v.GC = "gcnow", "deleted by the next pass"
		default:
			v.Class, v.GC = "gclater", "deletable in "+s.DeletableAt.Sub(now).Round(time.Second).String()
		}
		if s.Orphan {
			v.Where = "orphan"
		}
		v.Tip = fmt.Sprintf("%s (%s)\n%s, written %s\nGC: %s", s.ID, v.Where, v.Size, v.Age, v.GC)
		v.Label = v.GC
		gc.ssts = append(gc.ssts, v)
		gc.sizes = append(gc.sizes, s.Size)
	}
	rows = append(rows, gc)

	var widest int64 = 1
	for _, r := range rows {
		var b int64
		for _, sz := range r.sizes {
			b += sz
		}
		widest = max(widest, b)
	}
	page := viewPage{
		Title:     "IsleDB tree: " + url + " " + prefix,
		Generated: now.UTC().Format(time.RFC3339),
		Summary: fmt.Sprintf("manifest log position %d, largest seq %d; writer %s; compactor %s",
			m.LogSeq, m.MaxSeqNum(), fenceShort(m.WriterFence), fenceShort(m.CompactorFence)),
		Width: viewWidth,
		RowH:  viewRowH,
	}
	avail := float64(viewWidth - viewLabelW - 10)
	for i, r := range rows {
		y := 10 + i*(viewRowH+18)
		vr := viewRow{Label: r.label, Note: r.note, Y: y, TextY: y + viewRowH/2 + 4}
		x := float64(viewLabelW)
		for j, v := range r.ssts {
			w := int(float64(r.sizes[j]) / float64(widest) * (avail - float64(viewGap*len(r.ssts))))
			v.X, v.W, v.Y = int(x), max(w, viewMinW), y+4
			v.TextX, v.TextY = v.X+4, v.Y+viewRowH/2+4
			x += float64(v.W + viewGap)
			if v.W < 70 {
				v.Label = ""
			} else if r, n := []rune(v.Label), v.W/7; len(r) > n {
				v.Label = string(r[:max(n-1, 0)]) + "…"
			}
			vr.SSTs = append(vr.SSTs, v)
			page.Table = append(page.Table, v)
		}
		page.Rows = append(page.Rows, vr)
	}
	page.Height = 10 + len(rows)*(viewRowH+18) + 4
	return page
}

func fenceShort(f *manifest.FenceToken) string {
	if f == nil {
		return "none"
	}
	return fmt.Sprintf("epoch %d (%s)", f.Epoch, f.Owner)
}

func renderView(w io.Writer, page viewPage) error { return viewTemplate.Execute(w, page) }

// viewTemplate is well-formed XHTML (tests parse it as XML) with one inline SVG and no
// external resources.
var viewTemplate = template.Must(template.New("view").Parse(`<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>{{.Title}}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px 0; }
p.meta { margin: 0 0 12px 0; color: #555; }
rect.age0 { fill: #2b83ba; } rect.age1 { fill: #5fa8d3; } rect.age2 { fill: #9cc9e4; } rect.age3 { fill: #c9d6df; }
rect.gcnow { fill: #d7301f; } rect.gclater { fill: #fc8d59; } rect.gcflight { fill: #bbbbbb; }
rect.sst { stroke: #fff; stroke-width: 0.5; }
rect.sst:hover { stroke: #000; stroke-width: 1.5; }
text.label { font: bold 13px system-ui, sans-serif; fill: #222; }
text.note { font: 11px system-ui, sans-serif; fill: #666; }
text.in { font: 11px ui-monospace, monospace; fill: #000; pointer-events: none; }
table { border-collapse: collapse; margin-top: 16px; font-size: 12px; }
td, th { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; font-family: ui-monospace, monospace; }
span.key { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">{{.Summary}}. Generated {{.Generated}}. Width is proportional to size; hover an SST for details.</p>
<p class="meta">Age:<span class="key" style="background:#2b83ba"></span>under a minute<span class="key" style="background:#5fa8d3"></span>under an hour<span class="key" style="background:#9cc9e4"></span>under a day<span class="key" style="background:#c9d6df"></span>older.
GC:<span class="key" style="background:#d7301f"></span>deletable now<span class="key" style="background:#fc8d59"></span>after its grace period<span class="key" style="background:#bbbbbb"></span>flush in flight</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{range .Rows}}<g class="row">
<text class="label" x="4" y="{{.TextY}}">{{.Label}}</text>
<text class="note" x="110" y="{{.Y}}" dy="2">{{.Note}}</text>
{{range .SSTs}}<rect class="sst {{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{$.RowH}}"><title>{{.Tip}}</title></rect>{{if .Label}}<text class="in" x="{{.TextX}}" y="{{.TextY}}">{{.Label}}</text>{{end}}
{{end}}</g>
{{end}}</svg>
<table>
<tr><th>where</th><th>sst</th><th>size</th><th>keys</th><th>seqs</th><th>age</th><th>gc</th></tr>
{{range .Table}}<tr><td>{{.Where}}</td><td>{{.ID}}</td><td>{{.Size}}</td><td>{{.Keys}}</td><td>{{.Seqs}}</td><td>{{.Age}}</td><td>{{.GC}}</td></tr>
{{end}}</table>
</body>
</html>
`))
