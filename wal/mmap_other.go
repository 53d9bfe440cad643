//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wal

import (
	"errors"
	"os"
)

// mmapSupported reports whether ReadMmap can be honored on this platform: here it falls back
// to ReadStandardIO.
const mmapSupported = false

func mmapFile(f *os.File, size int64) ([]byte, error) {
	return nil, errors.New("wal: mmap not supported on this platform")
}

func munmapFile(b []byte) error { return nil }
