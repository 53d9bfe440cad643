//go:build linux

package wal

import (
	"os"
	"syscall"
)

// syncData makes f's data, and the metadata needed to read it back (such as its size),
// durable. On Linux that is fdatasync, which skips timestamps.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
