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
	if w.bwal != nil {
		w.bwal.Close() // queued records are lost, as with a crash
	}
	w.closeTxns()
	w.closeWAL()
	w.db.unregister(w)
}

// WaitSSTFillsForTest waits for the background fills of SSTs read by range that are in
// progress (ReaderOpenOptions.DisableSSTBackgroundFill) to end.
func (r *Reader) WaitSSTFillsForTest() { r.tables.WaitFills() }

// NextRefreshWaitForTest is the tailing reader's backoff schedule (tailing.go).
var NextRefreshWaitForTest = nextRefreshWait
