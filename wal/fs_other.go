//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wal

import "os"

// lockSupported reports whether lockFile really locks on this platform.
const lockSupported = false

// lockFile creates the lock file but cannot lock it on this platform: the caller must make
// sure only one process opens a root directory.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, ioErr("open lock file", path, err)
	}
	return f, nil
}

// syncDir is a no-op where directories cannot be fsynced.
func syncDir(dir string) error { return nil }
