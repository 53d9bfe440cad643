package wal

import (
	"sync"
	"sync/atomic"
	"time"
)

// committer coordinates group commit for one stream. Appenders that need durability call
// waitDurable; one of them at a time becomes the leader, writes out everything buffered so far
// and fsyncs it, while the others (followers) wait for it to finish. Records appended while
// an fsync is in flight are picked up by the next leader's single fsync, so N concurrent
// appenders cost far fewer than N fsyncs.
//
// Left alone, such a pipeline settles into two alternating halves: the appenders released by
// one fsync re-append just after the next leader has flushed, and wait a whole extra fsync.
// So a new leader first waits, briefly and asleep, until as many commit units are pending as
// the last fsync carried (bounded by half the recent fsync time, and by maxGroupWait). A lone
// appender never waits.
type committer struct {
	// A leader waiting for appenders to join sets want; the appender whose unit brings
	// pendingUnits up to it sends on gathered.
	want     atomic.Int64
	gathered chan struct{} // capacity 1
	timer    *time.Timer   // used by the current leader only

	mu struct {
		sync.Mutex
		syncing   bool          // a leader is flushing or fsyncing
		done      chan struct{} // closed when the current leader finishes
		lastGroup int64         // commit units the last fsync carried
		syncEWMA  int64         // moving average of fsync durations, in nanoseconds
	}
}

// maxGroupWait caps how long a leader waits for more appenders to join.
const maxGroupWait = 500 * time.Microsecond

// waitDurable returns once every record below end is on stable storage, doing the fsync
// itself if no other goroutine is doing one that covers end.
func (s *stream) waitDurable(end SeqNum) error {
	c := &s.commit
	var target int64
	var wait time.Duration
	for {
		if SeqNum(s.durableSeq.Load()) >= end {
			return nil
		}
		c.mu.Lock()
		if !c.mu.syncing {
			c.mu.syncing = true
			c.mu.done = make(chan struct{})
			target, wait = c.mu.lastGroup, time.Duration(c.mu.syncEWMA/2)
			c.mu.Unlock()
			break
		}
		// Follow the current leader; closing done wakes every follower at once, without a
		// convoy on the mutex.
		done := c.mu.done
		c.mu.Unlock()
		<-done
	}

	if target > 1 && s.pendingUnits.Load() < target {
		c.gather(s, target, min(wait, maxGroupWait))
	}
	t0 := time.Now()
	group, err := s.syncOnce()
	took := int64(time.Since(t0))

	c.mu.Lock()
	c.mu.syncing = false
	close(c.mu.done)
	c.mu.lastGroup = group
	if c.mu.syncEWMA == 0 {
		c.mu.syncEWMA = took
	} else {
		c.mu.syncEWMA += (took - c.mu.syncEWMA) / 8
	}
	c.mu.Unlock()
	if SeqNum(s.durableSeq.Load()) >= end {
		return nil // possibly made durable by Close or a rotation despite err
	}
	return err
}

// gather blocks (without spinning, so the appenders it waits for get the CPU) until target
// commit units are pending or d has passed.
func (c *committer) gather(s *stream, target int64, d time.Duration) {
	c.want.Store(target)
	if s.pendingUnits.Load() < target { // an appender may have missed want
		if c.timer == nil {
			c.timer = time.NewTimer(d)
		} else {
			c.timer.Reset(d)
		}
		select {
		case <-c.gathered:
		case <-c.timer.C:
		}
		c.timer.Stop()
	}
	c.want.Store(0)
	select {
	case <-c.gathered: // drop a late signal
	default:
	}
}

// arrived tells a gathering leader that a commit unit is pending; pending is the new count.
func (c *committer) arrived(pending int64) {
	if want := c.want.Load(); want > 0 && pending >= want {
		select {
		case c.gathered <- struct{}{}:
		default:
		}
	}
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
