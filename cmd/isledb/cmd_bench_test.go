package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/isledb/isledb/internal/benchkit"
)

func TestBenchMemoryJSON(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out.json")
	svgPath := filepath.Join(dir, "out.svg")
	var stdout, stderr bytes.Buffer
	args := []string{"-backend", "memory", "-dir", dir, "-keys", "2000", "-reads", "300", "-cold-reads", "50",
		"-scans", "30", "-tail-samples", "3", "-concurrency", "2", "-json", jsonPath, "-svg", svgPath, "-profile", "slatedb"}
	if err := benchMain(args, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "compactor on") || !strings.Contains(stdout.String(), "isledb main at close:") {
		t.Errorf("want the compactor named in the header and a summary per instance:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "readwhilewriting") || !strings.Contains(stderr.String(), "[") {
		t.Errorf("want a table on stdout and progress bars on stderr:\n%s\n%s", stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchkit.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Workload)
		if r.Engine != "isledb" || r.Backend != "memory" || r.KeySize != 20 || r.ValueSize != 400 {
			t.Errorf("%s: engine %s backend %s sizes %d/%d", r.Workload, r.Engine, r.Backend, r.KeySize, r.ValueSize)
		}
		if r.OpsPerSec <= 0 || r.P99Us <= 0 || r.RequestsPer1000Ops == nil || r.CostPerMillionOps == nil {
			t.Errorf("%s: incomplete result %+v", r.Workload, r)
		}
	}
	if !slices.Equal(names, benchkit.Workloads) {
		t.Errorf("workloads %v, want %v", names, benchkit.Workloads)
	}
	if rep.Machine.CPUs < 1 {
		t.Errorf("machine %+v", rep.Machine)
	}
	if svg, err := os.ReadFile(svgPath); err != nil || !bytes.HasPrefix(svg, []byte("<svg")) {
		t.Errorf("svg: %v", err)
	}
}

func TestBenchFlags(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{
		{"-workloads", "nosuch", "-quiet"},
		{"-backend", "nosuch", "-quiet"},
		{"-sim-get", "25ms", "-quiet"},
		{"-profile", "x"},
		{"-backend", "s3", "-quiet"}, // no URL
	} {
		if err := benchMain(args, &out, &out); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
