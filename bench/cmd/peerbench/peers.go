package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/syndtr/goleveldb/leveldb"
	lfilter "github.com/syndtr/goleveldb/leveldb/filter"
	lopt "github.com/syndtr/goleveldb/leveldb/opt"
	lutil "github.com/syndtr/goleveldb/leveldb/util"

	"github.com/isledb/isledb/internal/benchkit"
)

// reopener is the part of a peer that differs: opening and closing the database in a
// directory. DropCaches closes and reopens it.
type reopener[DB any] struct {
	dir   string
	open  func(dir string) (DB, error)
	close func(DB) error
	db    DB
}

func (r *reopener[DB]) reopen() error {
	if err := r.close(r.db); err != nil {
		return err
	}
	db, err := r.open(r.dir)
	if err != nil {
		return err
	}
	r.db = db
	return nil
}

// ---- Pebble v2 ----

type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) { panic(fmt.Sprintf("pebble: "+format, args...)) }

type pebbleEngine struct {
	reopener[*pebble.DB]
	wo *pebble.WriteOptions
}

func pebbleOpener(root string, po peerOptions) benchkit.Opener {
	open := func(dir string) (*pebble.DB, error) {
		cache := pebble.NewCache(po.cache)
		defer cache.Unref()
		o := &pebble.Options{MemTableSize: uint64(po.memtable), Logger: quietLogger{}, Cache: cache}
		for i := range o.Levels {
			o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		}
		return pebble.Open(dir, o)
	}
	return benchkit.Opener{Engine: "pebble", Backend: "disk", Open: func(_ context.Context, name string) (benchkit.Engine, error) {
		e := &pebbleEngine{reopener: reopener[*pebble.DB]{dir: filepath.Join(root, name), open: open, close: (*pebble.DB).Close}, wo: pebble.NoSync}
		if po.sync {
			e.wo = pebble.Sync
		}
		var err error
		e.db, err = open(e.dir)
		return e, err
	}}
}

func (e *pebbleEngine) Put(k, v []byte) error { return e.db.Set(k, v, e.wo) }
func (e *pebbleEngine) Get(k []byte) (bool, error) {
	_, closer, err := e.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, closer.Close()
}
func (e *pebbleEngine) Scan(start []byte, n int) (int, int, []byte, error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: start})
	if err != nil {
		return 0, 0, nil, err
	}
	var t benchkit.ScanTally
	for ok := it.First(); ok && t.Count < n; ok = it.Next() {
		t.Add(it.Key(), it.Value())
		if t.Count == n {
			t.Last(it.Key())
		}
	}
	return t.Count, t.Bytes, t.LastKey, it.Close()
}
func (e *pebbleEngine) Sync() error       { return e.db.Flush() }
func (e *pebbleEngine) DropCaches() error { return e.reopen() }
func (e *pebbleEngine) Close() error      { return e.db.Close() }

// ---- Badger v4 ----

type badgerEngine struct{ reopener[*badger.DB] }

func badgerOpener(root string, po peerOptions) benchkit.Opener {
	open := func(dir string) (*badger.DB, error) {
		o := badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(po.sync).
			WithMemTableSize(po.memtable).WithBlockCacheSize(po.cache).
			WithCompression(options.Snappy).WithBloomFalsePositive(0.01)
		return badger.Open(o)
	}
	return benchkit.Opener{Engine: "badger", Backend: "disk", Open: func(_ context.Context, name string) (benchkit.Engine, error) {
		e := &badgerEngine{reopener[*badger.DB]{dir: filepath.Join(root, name), open: open, close: (*badger.DB).Close}}
		var err error
		e.db, err = open(e.dir)
		return e, err
	}}
}

func (e *badgerEngine) Put(k, v []byte) error {
	return e.db.Update(func(txn *badger.Txn) error {
		// Badger keeps the slices until the transaction commits, which Update does
		// before it returns.
		return txn.Set(k, v)
	})
}

// ReadModifyWrite implements benchkit.Transactor with a Badger read-write transaction
// (NewTransaction, Get, Set, Commit): Badger checks the keys a transaction read at Commit
// and refuses it with badger.ErrConflict if another commit wrote one after it began.
func (e *badgerEngine) ReadModifyWrite(k, v []byte) (bool, error) {
	txn := e.db.NewTransaction(true)
	defer txn.Discard()
	item, err := txn.Get(k)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return false, err
	default:
		if err := item.Value(func([]byte) error { return nil }); err != nil {
			return false, err
		}
	}
	if err := txn.Set(k, v); err != nil {
		return false, err
	}
	err = txn.Commit()
	if errors.Is(err, badger.ErrConflict) {
		return true, nil
	}
	return false, err
}

func (e *badgerEngine) Get(k []byte) (bool, error) {
	found := false
	err := e.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func([]byte) error { return nil })
	})
	return found, err
}
func (e *badgerEngine) Scan(start []byte, n int) (int, int, []byte, error) {
	var t benchkit.ScanTally
	err := e.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchSize = min(n, 100)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(start); it.Valid() && t.Count < n; it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error { t.Add(item.Key(), v); return nil }); err != nil {
				return err
			}
			if t.Count == n {
				t.Last(item.Key())
			}
		}
		return nil
	})
	return t.Count, t.Bytes, t.LastKey, err
}
func (e *badgerEngine) Sync() error       { return e.db.Sync() }
func (e *badgerEngine) DropCaches() error { return e.reopen() }
func (e *badgerEngine) Close() error      { return e.db.Close() }

// ---- goleveldb ----

type leveldbEngine struct {
	reopener[*leveldb.DB]
	wo *lopt.WriteOptions
}

// syncKey is the marker a Sync writes with Sync: true (goleveldb has no flush call and
// skips empty batches). It sorts before every benchmark key.
var syncKey = []byte{0}

func leveldbOpener(root string, po peerOptions) benchkit.Opener {
	open := func(dir string) (*leveldb.DB, error) {
		return leveldb.OpenFile(dir, &lopt.Options{
			WriteBuffer: int(po.memtable), BlockCacheCapacity: int(po.cache),
			Filter: lfilter.NewBloomFilter(10), Compression: lopt.SnappyCompression,
		})
	}
	return benchkit.Opener{Engine: "goleveldb", Backend: "disk", Open: func(_ context.Context, name string) (benchkit.Engine, error) {
		e := &leveldbEngine{reopener: reopener[*leveldb.DB]{dir: filepath.Join(root, name), open: open, close: (*leveldb.DB).Close}, wo: &lopt.WriteOptions{Sync: po.sync}}
		var err error
		e.db, err = open(e.dir)
		return e, err
	}}
}

func (e *leveldbEngine) Put(k, v []byte) error { return e.db.Put(k, v, e.wo) }
func (e *leveldbEngine) Get(k []byte) (bool, error) {
	_, err := e.db.Get(k, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
func (e *leveldbEngine) Scan(start []byte, n int) (int, int, []byte, error) {
	it := e.db.NewIterator(&lutil.Range{Start: start}, nil)
	defer it.Release()
	var t benchkit.ScanTally
	for t.Count < n && it.Next() {
		if bytes.Equal(it.Key(), syncKey) {
			continue
		}
		t.Add(it.Key(), it.Value())
		if t.Count == n {
			t.Last(it.Key())
		}
	}
	return t.Count, t.Bytes, t.LastKey, it.Error()
}
func (e *leveldbEngine) Sync() error {
	return e.db.Put(syncKey, nil, &lopt.WriteOptions{Sync: true})
}
func (e *leveldbEngine) DropCaches() error { return e.reopen() }
func (e *leveldbEngine) Close() error      { return e.db.Close() }
