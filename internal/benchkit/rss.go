package benchkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ErrRSSUnsupported reports that the process's resident set size cannot be read here:
// RSS and PeakRSS read /proc/self/status, which only Linux has.
var ErrRSSUnsupported = errors.New("benchkit: resident set size is only measured on Linux")

// RSS returns the process's resident set size in bytes (VmRSS).
func RSS() (int64, error) { return procStatus("VmRSS") }

// PeakRSS returns the process's peak resident set size in bytes (VmHWM) since it started
// or since the last ResetPeakRSS. The kernel updates VmHWM lazily, so the current RSS
// counts when it is higher.
func PeakRSS() (int64, error) {
	hwm, err := procStatus("VmHWM")
	if err != nil {
		return 0, err
	}
	rss, err := procStatus("VmRSS")
	if err != nil {
		return 0, err
	}
	return max(hwm, rss), nil
}

// ResetPeakRSS sets the peak resident set size to the current one, so that PeakRSS then
// measures from now (Linux: writing "5" to /proc/self/clear_refs).
func ResetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ErrRSSUnsupported
		}
		return fmt.Errorf("benchkit: reset peak RSS: %w", err)
	}
	return nil
}

// procStatus returns a "kB" field of /proc/self/status in bytes.
func procStatus(field string) (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, ErrRSSUnsupported
		}
		return 0, fmt.Errorf("benchkit: read /proc/self/status: %w", err)
	}
	for line := range bytes.Lines(data) {
		rest, ok := bytes.CutPrefix(line, []byte(field+":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "<n> kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			break
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("benchkit: /proc/self/status has no %s field in kB", field)
}
