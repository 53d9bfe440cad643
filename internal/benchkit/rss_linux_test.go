//go:build linux

package benchkit

import (
	"errors"
	"syscall"
	"testing"
)

// TestPeakRSS: the peak follows fresh memory that is touched (mapped here, so the Go heap
// cannot hand back pages it already had), and the current RSS never exceeds it.
func TestPeakRSS(t *testing.T) {
	if err := ResetPeakRSS(); errors.Is(err, ErrRSSUnsupported) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	p0, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	buf, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)
	for i := range buf {
		buf[i] = byte(i)
	}
	p1, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if p1 < p0+48<<20 {
		t.Fatalf("peak RSS %d after touching 64 MiB, was %d", p1, p0)
	}
	r, err := RSS()
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := PeakRSS(); err != nil || r <= 0 || r > p2 {
		t.Fatalf("RSS = %d, then peak %d, %v; want 0 < RSS <= peak", r, p2, err)
	}
}
