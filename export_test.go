package isledb

// CrashForTest stops w as a process crash would: the flush loop ends, nothing buffered is
// flushed, the WAL files are closed as they are (records already appended stay, as the OS
// keeps a killed process's writes), and the writer refuses every later call with
// ErrClosed. Tests use it to reopen a writer on the same WAL directory in-process.
func (w *Writer) CrashForTest() {
	w.mu.Lock()
	if w.mu.closed {
		w.mu.Unlock()
		return
	}
	w.mu.closed = true
	w.notifyLocked()
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
	w.closeTxns()
	w.closeWAL()
	w.db.unregister(w)
}

// NextRefreshWaitForTest is the tailing reader's backoff schedule (tailing.go).
var NextRefreshWaitForTest = nextRefreshWait
