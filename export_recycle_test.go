package isledb

// MemtableMemoryForTest returns the bytes of memtable slabs w's memtables hold (inUse)
// and the bytes idle in its pool, for tests of the writer's memory bound.
func MemtableMemoryForTest(w *Writer) (inUse, idle int64) {
	s := w.pool.Stats()
	return s.InUse, s.Idle
}
