package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/isledb/isledb/internal/benchkit"
	"github.com/isledb/isledb/kv"
)

// ---- kv (the typed local store of package kv, on the same engine) ----

// kvEngine runs the benchkit workloads against a kv.Store. Values are stored as kv byte
// strings (one tag byte and a length in front of the benchmark's value).
type kvEngine struct {
	opts kv.Options
	s    *kv.Store
}

// kvOptions returns the store options of a preset ("default", "high", "low") with the
// settings every peer shares: memtable size, block cache, a 1% (10-bit) bloom filter,
// snappy; writes synced per batch with -sync, else not synced (WALSyncNone).
func kvOptions(dir string, po peerOptions) (kv.Options, error) {
	var o kv.Options
	switch po.kvPreset {
	case "default":
		o = kv.DefaultOptions(dir)
	case "high":
		o = kv.HighPerformanceOptions(dir)
	case "low":
		o = kv.LowMemoryOptions(dir) // its own sizes: that is what it measures
		o.WALSyncMode = kv.WALSyncNone
		if po.sync {
			o.WALSyncMode = kv.WALSyncPerBatch
		}
		return o, nil
	default:
		return o, fmt.Errorf("unknown -kv-preset %q (want default, high or low)", po.kvPreset)
	}
	o.MemtableSize = po.memtable
	o.BlockCacheSize = po.cache
	o.BloomFPRate = 0.01
	o.CompressionLevel = 1
	o.WALSyncMode = kv.WALSyncNone
	if po.sync {
		o.WALSyncMode = kv.WALSyncPerBatch
	}
	return o, nil
}

func kvOpener(root string, po peerOptions) benchkit.Opener {
	return benchkit.Opener{Engine: "kv", Backend: "disk", Open: func(_ context.Context, name string) (benchkit.Engine, error) {
		o, err := kvOptions(filepath.Join(root, name), po)
		if err != nil {
			return nil, err
		}
		s, err := kv.Open(o)
		if err != nil {
			return nil, err
		}
		return &kvEngine{opts: o, s: s}, nil
	}}
}

func (e *kvEngine) Put(k, v []byte) error { return e.s.PutBytes(k, v) }

// ReadModifyWrite implements benchkit.Transactor with a kv transaction (Store.Begin,
// snapshot isolation); kv.ErrConflict is the conflict.
func (e *kvEngine) ReadModifyWrite(k, v []byte) (bool, error) {
	x, err := e.s.Begin()
	if err != nil {
		return false, err
	}
	defer x.Rollback()
	if _, err := x.GetBytes(k); err != nil && !isNotFound(err) {
		return errors.Is(err, kv.ErrConflict), ignoreKVConflict(err)
	}
	if err := x.PutBytes(k, v); err != nil {
		return false, err
	}
	err = x.Commit()
	return errors.Is(err, kv.ErrConflict), ignoreKVConflict(err)
}

func ignoreKVConflict(err error) error {
	if errors.Is(err, kv.ErrConflict) {
		return nil
	}
	return err
}
func (e *kvEngine) Get(k []byte) (bool, error) {
	_, err := e.s.GetBytes(k)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}
func (e *kvEngine) Scan(start []byte, n int) (int, int, []byte, error) {
	if n <= 0 {
		return 0, 0, nil, nil
	}
	var t benchkit.ScanTally
	err := e.s.ScanRange(start, nil, func(k []byte, v kv.Value) bool {
		t.Add(k, v.Bytes)
		if t.Count == n {
			t.Last(k)
		}
		return t.Count < n
	})
	return t.Count, t.Bytes, t.LastKey, err
}

// Sync flushes the memtable to an SST (like Pebble's Flush): writes are then durable in
// every WALSyncMode.
func (e *kvEngine) Sync() error { return e.s.Flush() }

// DropCaches closes and reopens the store: an empty block cache.
func (e *kvEngine) DropCaches() error {
	if err := e.s.Close(); err != nil {
		return err
	}
	s, err := kv.Open(e.opts)
	if err != nil {
		return err
	}
	e.s = s
	return nil
}
func (e *kvEngine) Close() error { return e.s.Close() }

func isNotFound(err error) bool { return errors.Is(err, kv.ErrKeyNotFound) }
