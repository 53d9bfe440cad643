package wal

// TxnWriter collects entries in memory and appends them to one stream as a single atomic
// batch. Make one with WAL.Writer. A TxnWriter is not safe for concurrent use.
type TxnWriter struct {
	w      *WAL
	stream string
	data   []byte // the entries, back to back
	ends   []int  // end offset of each entry in data
}

// Add adds a copy of entry to the pending batch.
func (t *TxnWriter) Add(entry []byte) {
	t.data = append(t.data, entry...)
	t.ends = append(t.ends, len(t.data))
}

// Len returns the number of pending entries.
func (t *TxnWriter) Len() int { return len(t.ends) }

// Reset discards the pending entries.
func (t *TxnWriter) Reset() {
	t.data = t.data[:0]
	t.ends = t.ends[:0]
}

// Commit appends the pending entries as one atomic batch, exactly like WAL.AppendBatch, and
// returns the range of sequence numbers assigned. On success the writer is emptied and may be
// reused; on error its entries are kept, so the caller may retry or Reset.
func (t *TxnWriter) Commit() (Range, error) {
	entries := make([][]byte, len(t.ends))
	start := 0
	for i, end := range t.ends {
		entries[i] = t.data[start:end:end]
		start = end
	}
	r, err := t.w.AppendBatch(t.stream, entries)
	if err != nil {
		return Range{}, err
	}
	t.Reset()
	return r, nil
}
