package isledb

import (
	"errors"
	"fmt"

	"github.com/isledb/isledb/wal"
)

// WALMetrics returns the counters of the writer's write-ahead log (how many records were
// appended, how many fsyncs made them durable); zero without WriterOptions.WALDir.
func (w *Writer) WALMetrics() wal.Metrics {
	if w.wal == nil {
		return wal.Metrics{}
	}
	return w.wal.log.Metrics()
}

// VerifyWAL reads back every record of the writer's write-ahead log, checking each
// record's checksum and its encoding, and returns how many writes it holds (each write of
// a batch counted; published ones the log has not dropped yet included). Damage is an
// error matching ErrCorruption. Without a WALDir it returns 0, nil. Safe for concurrent use with writes.
func (w *Writer) VerifyWAL() (int, error) {
	if w.wal == nil {
		return 0, nil
	}
	it, err := w.wal.log.Iter(walStream, 0)
	if errors.Is(err, wal.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("isledb: verify WAL: %w", err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		b := it.Entry()
		if len(b) > 0 && b[0] == walMarkerPublished {
			continue
		}
		rs, err := decodeWALEntry(b)
		if err != nil {
			return n, fmt.Errorf("isledb: verify WAL: entry %d: %w", it.ID(), err)
		}
		n += len(rs)
	}
	if err := it.Err(); err != nil {
		if errors.Is(err, wal.ErrCorruption) && !errors.Is(err, ErrCorruption) {
			err = fmt.Errorf("%w: %w", ErrCorruption, err)
		}
		return n, fmt.Errorf("isledb: verify WAL: %w", err)
	}
	return n, nil
}
