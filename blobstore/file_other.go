//go:build !unix

package blobstore

import (
	"errors"
	"io/fs"
	"sync"
)

// errNotDir has no portable equivalent outside unix.
var errNotDir = errors.New("not a directory")

// errNameTooLong has no portable equivalent outside unix: there, only the up-front check
// of segment lengths applies.
var errNameTooLong = errors.New("file name too long")

func inode(fs.FileInfo) uint64 { return 0 }

// Without flock(2) the per-key lock only holds within this process.
var processLocks [fileLockStripes]sync.Mutex

func lockFile(name string) (func(), error) {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h*31 + uint32(name[i])
	}
	m := &processLocks[h%fileLockStripes]
	m.Lock()
	return m.Unlock, nil
}

func syncDir(string) error      { return nil }
func setWriteID(string, string) {}
func getWriteID(string) string  { return "" }
