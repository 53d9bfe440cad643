//go:build !unix

package kv

import (
	"errors"
	"fmt"
	"os"
)

// dirLock is the LOCK file created exclusively; Close removes it. Without flock a crash
// leaves the file behind: remove it by hand once no process uses the directory.
type dirLock struct{ path string }

func lockDir(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w: %s exists", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("kv: create lock file: %w", err)
	}
	f.Close()
	return &dirLock{path: path}, nil
}

func (l *dirLock) release() error { return os.Remove(l.path) }
