//go:build unix

package kv

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// dirLock is an exclusive flock on the directory's LOCK file. The kernel drops it when the
// process dies, so a crash leaves no stale lock; flock locks belong to the open file, so a
// second Open in the same process is refused as well.
type dirLock struct{ f *os.File }

func lockDir(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kv: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("kv: lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() error {
	// Closing the file drops the lock; the LOCK file itself stays (removing it would race
	// with another process locking it).
	return l.f.Close()
}
