//go:build linux

package blobstore

import "syscall"

func setxattr(path, name string, value []byte) error {
	return syscall.Setxattr(path, name, value, 0)
}

func getxattr(path, name string, buf []byte) (int, error) {
	return syscall.Getxattr(path, name, buf)
}
