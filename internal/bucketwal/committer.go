package bucketwal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

// DefaultMaxObjectSize is the default Options.MaxObjectSize.
const DefaultMaxObjectSize = 16 << 20

// Options configure a Committer.
type Options struct {
	// Store is the bucket.
	Store *blobstore.Store
	// Epoch is the writer's fence epoch, written in every object.
	Epoch uint64
	// Next is the position of the first object to write (the fence's position + 1).
	Next uint64
	// CoveredBelow is what the first object records until Covered says more: every object
	// below it is in the manifest.
	CoveredBelow uint64
	// Durable is the sequence number every record up to which is durable at the start.
	Durable uint64
	// MaxObjectSize bounds the records of one object (one record larger than it goes alone).
	// Default: DefaultMaxObjectSize.
	MaxObjectSize int
	// CheckFence, when set, is called before a PUT is retried after a failed attempt: an
	// error wrapping manifest.ErrFenced stops the Committer.
	CheckFence func(ctx context.Context) error
	// OnError is called (from the Committer's goroutine) with every failed attempt.
	OnError func(error)
}

// Stats count a Committer's work.
type Stats struct {
	Objects int64 // objects written
	Records int64 // records written
	Bytes   int64 // bytes of the objects written
	Failed  int64 // failed attempts
}

// entry locates one pending record in Committer.buf.
type entry struct {
	seqLo, seqHi uint64
	end          int // offset in buf just past the framed record
}

// landed is one object of this Committer the manifest does not cover yet.
type landed struct{ pos, seqHi uint64 }

// Committer writes records to the bucket as group-committed WAL objects; see the package
// doc. Add is called in sequence order (the writer calls it under its lock); Wait, Covered,
// Stats and Close are safe for concurrent use.
type Committer struct {
	opts    Options
	kick    chan struct{}
	closing chan struct{} // closed by Close: ends a retry's backoff
	done    chan struct{}

	mu struct {
		sync.Mutex
		buf     []byte // framed pending records
		pending []entry
		next    uint64 // the position the next object takes
		durable uint64 // every record up to it is in an object that landed
		covered uint64 // every record up to it is in the manifest
		own     []landed
		below   uint64 // coverage to record in the next object
		err     error  // terminal: the Committer stopped
		lastErr error  // the last failed attempt
		errGen  uint64 // counts failed attempts
		closed  bool
		changed chan struct{}
		stats   Stats
	}
}

// Start returns a running Committer.
func Start(opts Options) *Committer {
	if opts.MaxObjectSize <= 0 {
		opts.MaxObjectSize = DefaultMaxObjectSize
	}
	if opts.OnError == nil {
		opts.OnError = func(error) {}
	}
	c := &Committer{opts: opts, kick: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	c.mu.next = opts.Next
	c.mu.durable = opts.Durable
	c.mu.covered = opts.Durable
	c.mu.below = opts.CoveredBelow
	c.mu.changed = make(chan struct{})
	go c.loop()
	return c
}

// Add queues a record holding the writes with sequence numbers seqLo to seqHi, which are
// above those of every record added before. It fails only once the Committer stopped.
func (c *Committer) Add(seqLo, seqHi uint64, rec []byte) error {
	c.mu.Lock()
	if err := c.mu.err; err != nil {
		c.mu.Unlock()
		return err
	}
	if c.mu.closed {
		c.mu.Unlock()
		return errors.New("bucketwal: closed")
	}
	c.mu.buf = AppendRecord(c.mu.buf, rec)
	c.mu.pending = append(c.mu.pending, entry{seqLo: seqLo, seqHi: seqHi, end: len(c.mu.buf)})
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return nil
}

// Wait returns once every record up to sequence number seq is durable (in an object that
// landed, or in the manifest). It returns the error of a failed attempt made while it
// waited (the records stay queued and are retried), the Committer's terminal error
// (wrapping manifest.ErrFenced when another writer fenced this one), or ctx's error.
func (c *Committer) Wait(ctx context.Context, seq uint64) error {
	c.mu.Lock()
	gen := c.mu.errGen
	for {
		switch {
		case c.mu.durable >= seq || c.mu.covered >= seq:
			c.mu.Unlock()
			return nil
		case c.mu.err != nil:
			err := c.mu.err
			c.mu.Unlock()
			return err
		case c.mu.errGen != gen:
			err := c.mu.lastErr
			c.mu.Unlock()
			return err
		case c.mu.closed:
			c.mu.Unlock()
			return errors.New("bucketwal: closed")
		}
		ch := c.mu.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
}

// Covered tells the Committer that every record up to sequence number seq is in the
// manifest: they no longer need an object (pending ones are dropped), and the objects
// holding only such records may be deleted (recorded in the next object).
func (c *Committer) Covered(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if seq <= c.mu.covered {
		return
	}
	c.mu.covered = seq
	i := 0
	for i < len(c.mu.own) && c.mu.own[i].seqHi <= seq {
		i++
	}
	c.mu.own = c.mu.own[i:]
	n := 0
	for n < len(c.mu.pending) && c.mu.pending[n].seqHi <= seq {
		n++
	}
	if n > 0 {
		c.dropLocked(n)
	}
	c.recomputeBelowLocked()
	c.notifyLocked()
}

// Err returns the Committer's terminal error, or nil while it runs.
func (c *Committer) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.err
}

// Stats returns the Committer's counts so far.
func (c *Committer) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.stats
}

// Close stops the Committer once its PUT in flight, if any, is done; records still
// queued are not written. Later calls do nothing.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.mu.closed {
		c.mu.closed = true
		close(c.closing)
		c.notifyLocked()
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	<-c.done
}

func (c *Committer) notifyLocked() {
	close(c.mu.changed)
	c.mu.changed = make(chan struct{})
}

// dropLocked removes the first n pending records.
func (c *Committer) dropLocked(n int) {
	if n == len(c.mu.pending) {
		c.mu.buf, c.mu.pending = c.mu.buf[:0], c.mu.pending[:0]
		return
	}
	cut := c.mu.pending[n-1].end
	rest := make([]entry, len(c.mu.pending)-n, cap(c.mu.pending))
	for i, e := range c.mu.pending[n:] {
		e.end -= cut
		rest[i] = e
	}
	c.mu.pending = rest
	c.mu.buf = append(make([]byte, 0, cap(c.mu.buf)), c.mu.buf[cut:]...)
}

// recomputeBelowLocked sets the coverage the next object records: the first of this
// Committer's objects holding a record the manifest lacks, or the next position.
func (c *Committer) recomputeBelowLocked() {
	b := c.mu.next
	if len(c.mu.own) > 0 {
		b = c.mu.own[0].pos
	}
	c.mu.below = max(c.mu.below, b)
}

// group is one object being written.
type group struct {
	pos    uint64
	n      int
	seqHi  uint64
	hdr    Object // its header fields (Position is pos)
	framed []byte // its framed records
	data   []byte // the encoded object
}

// moveTo re-encodes g at position pos.
func (g *group) moveTo(pos uint64) {
	g.pos, g.hdr.Position = pos, pos
	g.data = encodeFramed(g.data[:0], &g.hdr, g.n, g.framed)
}

// take builds the next object from the pending records, or reports none (or that the
// Committer must stop).
func (c *Committer) take() (*group, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.mu.pending) == 0 || c.mu.err != nil {
		if c.mu.closed || c.mu.err != nil {
			return nil, false
		}
		c.mu.Unlock()
		<-c.kick
		c.mu.Lock()
	}
	if c.mu.closed {
		return nil, false
	}
	n := 1
	for n < len(c.mu.pending) && c.mu.pending[n].end <= c.opts.MaxObjectSize {
		n++
	}
	first, last := c.mu.pending[0], c.mu.pending[n-1]
	o := Object{Kind: KindData, Position: c.mu.next, Epoch: c.opts.Epoch, CoveredBelow: c.mu.below,
		SeqLo: first.seqLo, SeqHi: last.seqHi}
	framed := append([]byte(nil), c.mu.buf[:last.end]...)
	data := encodeFramed(make([]byte, 0, headerSize+16+last.end+trailer), &o, n, framed)
	return &group{pos: c.mu.next, n: n, seqHi: last.seqHi, hdr: o, framed: framed, data: data}, true
}

func (c *Committer) loop() {
	defer close(c.done)
	backoff := 20 * time.Millisecond
	for {
		g, ok := c.take()
		if !ok {
			return
		}
		for attempt := 0; ; attempt++ {
			err := c.put(g, attempt)
			if errors.Is(err, ErrStaleFence) {
				g.moveTo(g.pos + 1)
				attempt = -1
				continue
			}
			if err == nil {
				backoff = 20 * time.Millisecond
				break
			}
			c.mu.Lock()
			c.mu.stats.Failed++
			c.mu.lastErr, c.mu.errGen = err, c.mu.errGen+1
			if errors.Is(err, manifest.ErrFenced) {
				c.mu.err = err
			}
			c.notifyLocked()
			stop := c.mu.err != nil || c.mu.closed
			c.mu.Unlock()
			c.opts.OnError(err)
			if stop {
				return
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-c.closing:
				t.Stop()
				return
			}
			backoff = min(2*backoff, 2*time.Second)
		}
		c.mu.Lock()
		c.mu.stats.Objects++
		c.mu.stats.Records += int64(g.n)
		c.mu.stats.Bytes += int64(len(g.data))
		c.mu.durable = max(c.mu.durable, g.seqHi)
		c.mu.next = g.pos + 1
		if g.seqHi > c.mu.covered {
			c.mu.own = append(c.mu.own, landed{pos: g.pos, seqHi: g.seqHi})
		}
		// The group's records leave the queue, unless Covered dropped them meanwhile.
		n := 0
		for n < len(c.mu.pending) && c.mu.pending[n].seqHi <= g.seqHi {
			n++
		}
		if n > 0 {
			c.dropLocked(n)
		}
		c.recomputeBelowLocked()
		c.notifyLocked()
		c.mu.Unlock()
	}
}

// ErrStaleFence reports a position taken by an older writer's late fence: the caller
// goes on at the next position.
var ErrStaleFence = errors.New("bucketwal: position taken by an older writer's fence")

// put writes g's object at its position, put-if-absent. A position already taken is ours
// if it holds g's bytes (an earlier attempt landed and its reply was lost), and otherwise
// another writer's: this one is fenced (ErrStaleFence: an older writer's late fence).
func (c *Committer) put(g *group, attempt int) error {
	ctx := context.Background()
	if attempt > 0 && c.opts.CheckFence != nil {
		if err := c.opts.CheckFence(ctx); errors.Is(err, manifest.ErrFenced) {
			return fmt.Errorf("bucketwal: write %s: %w", Key(g.pos), err)
		}
	}
	return putOwn(ctx, c.opts.Store, g.pos, c.opts.Epoch, g.data)
}

// putOwn writes data at pos for writer epoch (see Committer.put).
func putOwn(ctx context.Context, store *blobstore.Store, pos, epoch uint64, data []byte) error {
	key := Key(pos)
	_, err := store.WriteIfNotExist(ctx, key, data)
	if !errors.Is(err, blobstore.ErrPreconditionFailed) {
		if err != nil {
			return fmt.Errorf("bucketwal: write %s: %w", key, err)
		}
		return nil
	}
	got, _, err := store.Read(ctx, key)
	if err != nil {
		return fmt.Errorf("bucketwal: write %s: position taken; read it back: %w", key, err)
	}
	if bytes.Equal(got, data) {
		return nil
	}
	who := "another writer"
	if o, err := Decode(key, got); err == nil {
		if o.Kind == KindFence && o.Epoch < epoch {
			// The fence of a writer whose claim came before this one's: its Fence landed
			// after this writer's, and its check of the manifest that follows fails, so it
			// writes nothing more. Go past it.
			return ErrStaleFence
		}
		who = fmt.Sprintf("writer epoch %d (a %s object)", o.Epoch, map[Kind]string{KindData: "data", KindFence: "fence"}[o.Kind])
	}
	return fmt.Errorf("%w: bucket WAL position %s is taken by %s; this writer (epoch %d) can append no more",
		manifest.ErrFenced, key, who, epoch)
}
