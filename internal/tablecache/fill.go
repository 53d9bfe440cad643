package tablecache

import (
	"context"
	"errors"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// Background fills
//
// An SST read by range keeps only the blocks it read, in the in-memory block cache, so a
// reader whose data outgrows the block cache sends a ranged GET for most lookups however
// warm it is. With Options.BackgroundFill, such an SST is downloaded whole into the file
// cache in the background once it is used: at its first use when the file cache has room
// for it, after HotRangeReads range reads when the fill would evict other SSTs (so a data
// set larger than the cache does not churn whole downloads for SSTs read once). The
// download is verified against the manifest's SHA-256 like any whole download and its
// space is reserved in the file cache before it starts (the capacity holds). The table is
// then swapped for one open on the cached file, under the same block cache ID (same
// bytes, same blocks); users of the range table finish on it, and it closes when the last
// releases it. Fills are queued and at most FillConcurrency run at once; a failed one is
// tried again at the SST's next range read.

// maybeFill queues the background fill of t, a table read by range, if it is due (force:
// whenever it fits the file cache). It returns a channel closed when the fill queued for t
// (now or before) ends, or nil if none is.
func (c *Cache) maybeFill(t *table, force bool) <-chan struct{} {
	if !c.opts.BackgroundFill || c.opts.Files == nil {
		return nil
	}
	if !force && t.filling.Load() {
		return nil // the fast path of range reads: queued already
	}
	size := t.meta.Size
	if c.opts.FileCacheCapacity > 0 && size > c.opts.FileCacheCapacity {
		return nil
	}
	if !force && t.rangeReads.Load() < c.opts.HotRangeReads && c.opts.Files.Room() < size {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.filling.Load() {
		return t.fillDone
	}
	if c.mu.closed || c.mu.tables[t.id] != t {
		// Closed, or dropped meanwhile (no longer in the manifest): not worth a download.
		return nil
	}
	t.filling.Store(true)
	t.fillDone = make(chan struct{})
	c.bg.Add(1)
	c.mu.fillQueue = append(c.mu.fillQueue, t)
	if c.mu.fillers < c.opts.FillConcurrency {
		c.mu.fillers++
		go c.filler()
	}
	return t.fillDone
}

// Prefetch opens the SST meta describes and, if it is read by range and fits the file
// cache, fills it into the file cache now (or waits for its background fill), so that
// later reads of it send no request. A failed fill is not an error: the SST stays
// readable by range.
func (c *Cache) Prefetch(ctx context.Context, meta *manifest.SSTMeta) error {
	h, err := c.Get(ctx, meta)
	if err != nil {
		return err
	}
	defer h.Release()
	if !h.t.byRange {
		return nil
	}
	if done := c.maybeFill(h.t, true); done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// filler runs the queued fills, one at a time, until the queue is empty.
func (c *Cache) filler() {
	for {
		c.mu.Lock()
		if len(c.mu.fillQueue) == 0 {
			c.mu.fillers--
			c.mu.Unlock()
			return
		}
		t := c.mu.fillQueue[0]
		c.mu.fillQueue[0] = nil
		c.mu.fillQueue = c.mu.fillQueue[1:]
		c.mu.Unlock()
		err := c.fill(t)
		c.mu.Lock()
		close(t.fillDone)
		if err != nil {
			c.stats.fillErrors.Add(1)
			if !errors.Is(err, base.ErrCorruption) {
				t.fillDone = nil
				t.filling.Store(false) // a later range read tries again
			} // a corrupt object is not downloaded again by this table
		}
		c.mu.Unlock()
		c.bg.Done()
	}
}

// fill downloads t's SST into the file cache and swaps t for a table on the cached file.
func (c *Cache) fill(t *table) error {
	ctx := c.bgCtx
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	dropped := c.mu.tables[t.id] != t
	c.mu.Unlock()
	if dropped {
		return errors.New("tablecache: fill: the sst was dropped meanwhile")
	}
	want, err := parseChecksum(t.meta.Checksum)
	if err != nil {
		return err
	}
	f, err := c.download(ctx, &t.meta, want)
	if err != nil {
		return err
	}
	r, err := sstable.Open(ctx, fileSource{f}, c.readerOptions(t))
	if err != nil {
		_ = f.Close()
		return err
	}
	nt := &table{id: t.id, meta: t.meta, cacheID: t.cacheID, reader: r, file: f, refs: 1, ready: make(chan struct{})}
	close(nt.ready)
	nt.isReady.Store(true)
	nt.lastUse.Store(t.lastUse.Load())

	c.mu.Lock()
	if c.mu.closed || c.mu.tables[t.id] != t {
		// Dropped while downloading. If nothing replaced it, the SST left the manifest
		// (or the cache closed): keep the file only if the cache is closing, for the
		// next reader.
		orphan := !c.mu.closed && c.mu.tables[t.id] == nil
		c.mu.Unlock()
		nt.close()
		if orphan {
			c.opts.Files.Remove(t.id)
		}
		return errors.New("tablecache: fill: the sst was dropped meanwhile")
	}
	c.removeLocked(t)
	c.mu.tables[t.id] = nt
	c.countFileLocked(nt)
	closeOld := t.refs == 0
	idle := c.closeIdleFilesLocked()
	c.mu.Unlock()
	if closeOld {
		t.close()
	}
	for _, it := range idle {
		it.close()
	}
	c.stats.fills.Add(1)
	// The file may have been evicted between the download and the swap, while the range
	// table (which FileEvicted keeps) was still in place: drop the new table then, so that
	// no SST stays open on an evicted file. (An eviction after this check finds nt.)
	if !c.opts.Files.Contains(t.id) {
		c.FileEvicted(t.id)
	}
	return nil
}

// WaitFills waits for the background fills in progress to end. Fills started meanwhile
// may or may not be waited for: tests call it once the reads that start fills are done.
func (c *Cache) WaitFills() { c.bg.Wait() }
