package benchkit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one workload run on one engine.
type Result struct {
	Engine      string  `json:"engine"`
	Backend     string  `json:"backend"`
	Workload    string  `json:"workload"`
	KeySize     int     `json:"key_size"`
	ValueSize   int     `json:"value_size"`
	Concurrency int     `json:"concurrency"`
	Ops         int64   `json:"ops"`
	Seconds     float64 `json:"seconds"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	// MBPerSec is key and value bytes written or read (found) per second, in 10^6 B.
	MBPerSec float64 `json:"mb_per_sec"`
	MeanUs   float64 `json:"mean_us"`
	P50Us    float64 `json:"p50_us"`
	P99Us    float64 `json:"p99_us"`
	P999Us   float64 `json:"p999_us"`
	MaxUs    float64 `json:"max_us"`
	// The object-store columns, for engines on a blobstore.Store only.
	Requests *Requests `json:"requests,omitempty"`
	// RequestsPer1000Ops is Requests per 1,000 operations.
	RequestsPer1000Ops *RequestRates `json:"requests_per_1000_ops,omitempty"`
	// UploadPerLogicalByte is bytes PUT to the store per key and value byte written
	// (write workloads only).
	UploadPerLogicalByte float64 `json:"upload_per_logical_byte,omitempty"`
	// CostPerMillionOps is the request cost of a million such operations at S3 Standard
	// list prices, in US dollars.
	CostPerMillionOps *float64 `json:"cost_usd_per_million_ops,omitempty"`
	// The transaction workloads (TxnWorkloads) only: Ops counts the commits, Attempts the
	// transactions run, ConflictsPerTxn the share of them refused with a conflict.
	Attempts        int64    `json:"txn_attempts,omitempty"`
	ConflictsPerTxn *float64 `json:"conflicts_per_txn,omitempty"`
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func newResult(op Opener, cfg Config, name string, ops int64, h *Histogram, elapsed time.Duration, moved int64) Result {
	sec := max(elapsed.Seconds(), 1e-9)
	return Result{
		Engine: op.Engine, Backend: op.Backend, Workload: name,
		KeySize: cfg.KeySize, ValueSize: cfg.ValueSize, Concurrency: cfg.Concurrency,
		Ops: ops, Seconds: elapsed.Seconds(), OpsPerSec: float64(ops) / sec,
		MBPerSec: float64(moved) / 1e6 / sec,
		MeanUs:   us(h.Mean()), P50Us: us(h.Quantile(0.50)), P99Us: us(h.Quantile(0.99)),
		P999Us: us(h.Quantile(0.999)), MaxUs: us(h.Max()),
	}
}

func (r Requests) sub(o Requests) Requests {
	return Requests{
		Get: r.Get - o.Get, RangedGet: r.RangedGet - o.RangedGet, Head: r.Head - o.Head,
		Put: r.Put - o.Put, CondPut: r.CondPut - o.CondPut, List: r.List - o.List,
		Delete: r.Delete - o.Delete, BytesRead: r.BytesRead - o.BytesRead,
		BytesWritten: r.BytesWritten - o.BytesWritten,
	}
}

func (res *Result) setRequests(req Requests, logicalWritten int64) {
	res.Requests = &req
	rates := req.PerOps(res.Ops, 1000)
	res.RequestsPer1000Ops = &rates
	if logicalWritten > 0 {
		res.UploadPerLogicalByte = float64(req.BytesWritten) / float64(logicalWritten)
	}
	c := CostPerMillionOps(req, res.Ops)
	res.CostPerMillionOps = &c
}

// Machine describes where a run ran.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	LoadAvg   string `json:"loadavg,omitempty"` // /proc/loadavg's 1, 5, 15 minute figures at the end
	GoVersion string `json:"go_version"`
}

// ThisMachine describes the running machine.
func ThisMachine() Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// Report is the JSON document of a run.
type Report struct {
	Tool    string    `json:"tool"`
	Command string    `json:"command"`
	Time    time.Time `json:"time"`
	Machine Machine   `json:"machine"`
	Results []Result  `json:"results"`
}

// NewReport wraps results with the machine's description.
func NewReport(tool string, results []Result) Report {
	return Report{Tool: tool, Command: strings.Join(os.Args, " "), Time: time.Now().UTC(), Machine: ThisMachine(), Results: results}
}

// WriteJSON writes the report, indented.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJSONFile writes the report to path.
func (r Report) WriteJSONFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteJSON(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// fmtUs formats microseconds readably: µs under a millisecond, ms, then s.
func fmtUs(v float64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%.1fµs", v)
	case v < 1e6:
		return fmt.Sprintf("%.2fms", v/1000)
	default:
		return fmt.Sprintf("%.2fs", v/1e6)
	}
}

func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

func fmtPerK(v float64) string {
	if v == 0 {
		return "0"
	}
	if v < 0.01 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// columns are the table's headings; row returns one result's cells.
var columns = []string{"engine", "backend", "workload", "ops", "ops/s", "MB/s", "p50", "p99", "p99.9",
	"GET/kop", "HEAD/kop", "PUT/kop", "LIST/kop", "DEL/kop", "up B/B", "$/Mop"}

func row(r Result) []string {
	cells := []string{r.Engine, r.Backend, r.Workload, fmt.Sprint(r.Ops), fmtRate(r.OpsPerSec),
		fmt.Sprintf("%.1f", r.MBPerSec), fmtUs(r.P50Us), fmtUs(r.P99Us), fmtUs(r.P999Us)}
	if q := r.RequestsPer1000Ops; q != nil {
		up := "-"
		if r.UploadPerLogicalByte > 0 {
			up = fmt.Sprintf("%.2f", r.UploadPerLogicalByte)
		}
		cells = append(cells, fmtPerK(q.Get+q.RangedGet), fmtPerK(q.Head), fmtPerK(q.Put+q.CondPut),
			fmtPerK(q.List), fmtPerK(q.Delete), up, fmt.Sprintf("%.4f", *r.CostPerMillionOps))
	} else {
		cells = append(cells, "-", "-", "-", "-", "-", "-", "-")
	}
	return cells
}

// WriteTable writes results as an aligned text table.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(columns, "\t")+"\t")
	for _, r := range results {
		fmt.Fprintln(tw, strings.Join(row(r), "\t")+"\t")
	}
	return tw.Flush()
}

// WriteMarkdown writes results as a markdown table.
func WriteMarkdown(w io.Writer, results []Result) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(columns, " | ") + " |\n|")
	for i := range columns {
		if i < 3 {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, r := range results {
		b.WriteString("| " + strings.Join(row(r), " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Ratio compares the base engine with one peer on one workload.
type Ratio struct {
	Workload  string  `json:"workload"`
	Peer      string  `json:"peer"`
	OpsPerSec float64 `json:"ops_per_sec"` // base / peer: above 1, the base is faster
	P99       float64 `json:"p99"`         // base / peer: above 1, the base's tail is slower
}

// Ratios compares engine base with every other engine, workload by workload, in the
// order of results.
func Ratios(results []Result, base string) []Ratio {
	baseOf := map[string]Result{}
	for _, r := range results {
		if r.Engine == base {
			baseOf[r.Workload] = r
		}
	}
	var out []Ratio
	for _, r := range results {
		b, ok := baseOf[r.Workload]
		if r.Engine == base || !ok || r.OpsPerSec == 0 || r.P99Us == 0 {
			continue
		}
		out = append(out, Ratio{Workload: r.Workload, Peer: r.Engine, OpsPerSec: b.OpsPerSec / r.OpsPerSec, P99: b.P99Us / r.P99Us})
	}
	return out
}

// WriteRatiosMarkdown writes ratios as a markdown table with one row per workload and
// one ops/s and one p99 column per peer; markdown false writes aligned text.
func WriteRatios(w io.Writer, ratios []Ratio, base string, markdown bool) error {
	var peers, workloads []string
	cell := map[[2]string]Ratio{}
	for _, r := range ratios {
		if !contains(peers, r.Peer) {
			peers = append(peers, r.Peer)
		}
		if !contains(workloads, r.Workload) {
			workloads = append(workloads, r.Workload)
		}
		cell[[2]string{r.Workload, r.Peer}] = r
	}
	head := []string{"workload"}
	for _, p := range peers {
		head = append(head, base+"/"+p+" ops/s", base+"/"+p+" p99")
	}
	var rows [][]string
	for _, wl := range workloads {
		cells := []string{wl}
		for _, p := range peers {
			if r, ok := cell[[2]string{wl, p}]; ok {
				cells = append(cells, fmt.Sprintf("%.2f×", r.OpsPerSec), fmt.Sprintf("%.2f×", r.P99))
			} else {
				cells = append(cells, "-", "-")
			}
		}
		rows = append(rows, cells)
	}
	return writeTable(w, head, rows, 1, markdown)
}

// writeTable writes rows under head, as markdown (the columns from textCols on
// right-aligned) or as aligned text.
func writeTable(w io.Writer, head []string, rows [][]string, textCols int, markdown bool) error {
	if markdown {
		var b strings.Builder
		b.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat(" --- |", textCols) + strings.Repeat(" ---: |", len(head)-textCols) + "\n")
		for _, c := range rows {
			b.WriteString("| " + strings.Join(c, " | ") + " |\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, c := range rows {
		fmt.Fprintln(tw, strings.Join(c, "\t")+"\t")
	}
	return tw.Flush()
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// WriteJSONWith writes the report with one more top-level field, indented.
func (r Report) WriteJSONWith(w io.Writer, field string, value any) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m[field], err = json.Marshal(value); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}
