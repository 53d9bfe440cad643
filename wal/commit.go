package wal

import (
	"runtime"
	"sync"
	"time"
)

// committer coordinates group commit for one stream. Appenders that need durability call
// waitDurable; one of them at a time becomes the leader, writes out everything buffered so far
// and fsyncs it, while the others (followers) wait on the condition variable. Records
// appended while an fsync is in flight are picked up by the next leader's single fsync, so N
// concurrent appenders cost far fewer than N fsyncs.
//
// Left alone, such a pipeline settles into two alternating halves: the appenders released by
// one fsync re-append just after the next leader has flushed, and wait a whole extra fsync.
// So a new leader first waits, briefly, until as many commit units are pending as the last
// fsync carried (bounded by a fraction of the recent fsync time). A lone appender never waits.
type committer struct {
	mu        sync.Mutex
	cond      sync.Cond // signalled when a leader finishes
	syncing   bool      // a leader is flushing or fsyncing
	lastGroup int64     // commit units the last fsync carried
	syncEWMA  int64     // moving average of fsync durations, in nanoseconds
}

// maxGroupWait caps how long a leader waits for more appenders to join.
const maxGroupWait = 500 * time.Microsecond

// waitDurable returns once every record below end is on stable storage, doing the fsync
// itself if no other goroutine is doing one that covers end.
func (s *stream) waitDurable(end SeqNum) error {
	if SeqNum(s.durableSeq.Load()) >= end {
		return nil
	}
	c := &s.commit
	c.mu.Lock()
	for c.syncing {
		c.cond.Wait()
		if SeqNum(s.durableSeq.Load()) >= end {
			c.mu.Unlock()
			return nil
		}
	}
	if SeqNum(s.durableSeq.Load()) >= end {
		c.mu.Unlock()
		return nil
	}
	c.syncing = true
	target, wait := c.lastGroup, time.Duration(c.syncEWMA/2)
	c.mu.Unlock()

	if target > 1 && s.pendingUnits.Load() < target {
		deadline := time.Now().Add(min(wait, maxGroupWait))
		for s.pendingUnits.Load() < target && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
	t0 := time.Now()
	group, err := s.syncOnce()
	took := int64(time.Since(t0))

	c.mu.Lock()
	c.syncing = false
	c.lastGroup = group
	if c.syncEWMA == 0 {
		c.syncEWMA = took
	} else {
		c.syncEWMA += (took - c.syncEWMA) / 8
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	if SeqNum(s.durableSeq.Load()) >= end {
		return nil // possibly made durable by Close or a rotation despite err
	}
	return err
}

// syncOnce writes out the buffer and fsyncs the active segment outside the write lock, so
// appenders keep buffering meanwhile. On success every record assigned before it started is
// durable. It returns the number of commit units the fsync carried.
func (s *stream) syncOnce() (int64, error) {
	s.mu.Lock()
	if err := s.mu.err; err != nil {
		s.mu.Unlock()
		return 0, err
	}
	if err := s.flushLocked(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	group := s.pendingUnits.Swap(0)
	target := s.mu.next
	aw := s.mu.active
	aw.pins++
	s.mu.Unlock()

	err := syncData(aw.f)
	s.w.metrics.syncs.Add(1)

	s.mu.Lock()
	aw.pins--
	if aw.retired && aw.pins == 0 {
		aw.f.Close()
	}
	if err != nil {
		err = s.failLocked(ioErr("fsync", aw.seg.path, err))
	}
	s.mu.Unlock()
	if err == nil {
		s.markDurable(target)
	}
	return group, err
}
