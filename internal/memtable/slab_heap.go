//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package memtable

// offHeapSlabs: on this platform key/value slabs are ordinary heap memory; the pool still
// recycles them, so a flushed memtable does not become garbage.
const offHeapSlabs = false

func allocBytes(n int) []byte { return make([]byte, n) }

func freeBytes([]byte) {}
