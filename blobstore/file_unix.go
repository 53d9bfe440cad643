//go:build unix

package blobstore

import (
	"io/fs"
	"os"
	"syscall"
)

// errNotDir is what opening a path through a file (not a directory) fails with.
var errNotDir = syscall.ENOTDIR

// errNameTooLong is what the operating system refuses a path or file name too long with.
var errNameTooLong = syscall.ENAMETOOLONG

// writeIDAttr is the extended attribute holding a conditional write's id.
const writeIDAttr = "user.isledb.write-id"

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// lockFile takes an exclusive flock(2) on name, which holds across processes.
func lockFile(name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// setWriteID records the write id as an extended attribute where the file system keeps
// them; where it does not, the id is lost and a lost-reply retry reports a conflict.
func setWriteID(path, id string) {
	_ = setxattr(path, writeIDAttr, []byte(id))
}

func getWriteID(path string) string {
	buf := make([]byte, 64)
	n, err := getxattr(path, writeIDAttr, buf)
	if err != nil || n <= 0 {
		return ""
	}
	return string(buf[:n])
}
