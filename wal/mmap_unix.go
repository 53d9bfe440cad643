//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package wal

import (
	"os"
	"syscall"
)

// mmapSupported reports whether ReadMmap can be honored on this platform.
const mmapSupported = true

// mmapFile maps the first size bytes of f read-only. size must be positive.
func mmapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, syscall.EINVAL
	}
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

// munmapFile releases a mapping made by mmapFile.
func munmapFile(b []byte) error { return syscall.Munmap(b) }
