package isledb

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// prefetchConcurrency bounds the SSTs RefreshAndPrefetchSSTs opens at once.
const prefetchConcurrency = 8

// RefreshAndPrefetchSSTs refreshes the reader (see Refresh), then opens every SST of the
// new manifest version, so that later reads send no request for them: every SST that fits
// in SSTCacheSize ends up whole in the disk cache (those read by range are filled now,
// or waited for if their background fill is under way, unless DisableSSTBackgroundFill),
// larger ones have their footer, index and filter read. It returns the refresh's error, or
// the errors of the SSTs it could not open (the others are prefetched). It comes from the
// original isledb's API.
func (r *Reader) RefreshAndPrefetchSSTs(ctx context.Context) error {
	if err := r.Refresh(ctx); err != nil {
		return err
	}
	m := r.cur.Load()
	ssts := m.CopySSTs()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, prefetchConcurrency)
	)
	for i := range ssts {
		sst := &ssts[i]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := r.tables.Prefetch(ctx, sst); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("isledb: prefetch sst %s: %w", sst.ID, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
