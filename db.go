package isledb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

// DB is a database in a bucket prefix: the entry point for writers and compactors.
// Readers open directly with OpenReader. A DB is safe for concurrent use.
type DB struct {
	store    *blobstore.Store
	mstorage manifest.Storage
	gcmarks  manifest.GCMarkStorage
	logger   *slog.Logger

	mu struct {
		sync.Mutex
		closed  bool
		closers map[closer]struct{}
	}
}

// closer is something the DB closes on Close: writers and compactors it opened.
type closer interface{ Close() error }

// OpenDB returns the database stored in store. It sends no request: problems with the
// bucket surface when a writer or compactor opens.
func OpenDB(ctx context.Context, store *blobstore.Store, opts DBOptions) (*DB, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidOptions)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db := &DB{store: store, mstorage: opts.ManifestStorage, gcmarks: opts.GCMarkStorage, logger: opts.Logger}
	if db.logger == nil {
		db.logger = slog.Default()
	}
	if db.mstorage == nil {
		db.mstorage = manifest.NewBlobStorage(store)
	}
	if db.gcmarks == nil {
		db.gcmarks = manifest.NewBlobGCMarkStorage(store)
	}
	db.mu.closers = map[closer]struct{}{}
	return db, nil
}

// Store returns the blob store the database lives in.
func (db *DB) Store() *blobstore.Store { return db.store }

// register adds c to what Close closes; it fails if the DB is closed.
func (db *DB) register(c closer) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	db.mu.closers[c] = struct{}{}
	return nil
}

func (db *DB) unregister(c closer) {
	db.mu.Lock()
	defer db.mu.Unlock()
	delete(db.mu.closers, c)
}

// newManifestStore returns a manifest store over the DB's manifest storage.
func (db *DB) newManifestStore() *manifest.Store {
	return manifest.NewStoreWithStorage(db.mstorage)
}

// Close closes every writer and compactor opened through the DB that is still open
// (writers flush first) and returns the first error. The blob store stays open.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.closed = true
	cs := make([]closer, 0, len(db.mu.closers))
	for c := range db.mu.closers {
		cs = append(cs, c)
	}
	db.mu.Unlock()
	var errs []error
	for _, c := range cs {
		if err := c.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
