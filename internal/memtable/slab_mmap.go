//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package memtable

import "syscall"

// offHeapSlabs: key/value memory of pooled memtables is mapped from the OS, outside the Go
// heap. Such memory holds bytes only, never Go pointers, so the GC need not scan it; it is
// freed explicitly (freeBytes) when the memtable that used it retires and the pool does
// not keep it, so it is never read after being unmapped while the Pool's reference rules
// (pool.go) are followed.
const offHeapSlabs = true

// allocBytes returns n zeroed bytes mapped outside the Go heap, or heap memory if the
// mapping fails (an mmap failure is as good as out of memory; the heap may still cope).
func allocBytes(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b[:n:n]
}

// freeBytes unmaps b, which allocBytes returned (whole); heap memory is left to the GC.
func freeBytes(b []byte) {
	if cap(b) == 0 {
		return
	}
	// Munmap refuses memory it did not map (EINVAL), which is how a heap fallback of
	// allocBytes ends up here: the GC takes that.
	_ = syscall.Munmap(b[:cap(b)])
}
