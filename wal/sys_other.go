//go:build !linux

package wal

import "os"

// syncData makes f's data durable. Outside Linux it is a plain fsync (which on macOS Go
// implements with F_FULLFSYNC).
func syncData(f *os.File) error { return f.Sync() }
