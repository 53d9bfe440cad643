package faultstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/isledb/isledb/blobstore"
)

// Op names a Backend method.
type Op string

// The operations a Request can be.
const (
	OpGet    Op = "get"
	OpHead   Op = "head"
	OpPut    Op = "put"
	OpDelete Op = "delete"
	OpList   Op = "list"
)

// Request describes one call to the backend, as rules see it.
type Request struct {
	Op  Op
	Key string // the full key (or list prefix)
	// Seq numbers requests from 0 in the order they reached the backend.
	Seq int64
	// Put is the write's options (OpPut only).
	Put blobstore.PutOptions
}

// ErrInjected is what injected failures wrap.
var ErrInjected = errors.New("faultstore: injected failure")

// InjectedError is an injected failure. Transient says whether the Store should retry it.
type InjectedError struct {
	Req       Request
	Permanent bool
}

// Error implements error.
func (e *InjectedError) Error() string {
	return "faultstore: injected failure of " + string(e.Req.Op) + " " + e.Req.Key
}

// Unwrap returns ErrInjected.
func (e *InjectedError) Unwrap() error { return ErrInjected }

// Transient reports whether the failure should be retried.
func (e *InjectedError) Transient() bool { return !e.Permanent }

// action is what a matching rule does to a request.
type action int

const (
	actFail      action = iota // fail before reaching the inner backend
	actLoseReply               // reach the inner backend, then fail
)

type rule struct {
	match     func(Request) bool
	act       action
	err       error // nil: an *InjectedError
	permanent bool
	remaining int64 // how many more times the rule fires; < 0: forever
}

// Backend is a blobstore.Backend that injects faults into calls to an inner Backend.
type Backend struct {
	inner   blobstore.Backend
	seq     atomic.Int64
	latency atomic.Int64 // nanoseconds added to every request
	mu      struct {
		sync.Mutex
		rules []*rule
		log   []Request
		keep  bool
	}
}

var _ blobstore.Backend = (*Backend)(nil)

// New wraps inner.
func New(inner blobstore.Backend) *Backend { return &Backend{inner: inner} }

// NewMemoryStore returns a Store over a fault-injecting memory backend, retrying quickly
// (1ms backoff) so tests run fast.
func NewMemoryStore(prefix string) (*blobstore.Store, *Backend) {
	fb := New(blobstore.NewMemory("").Backend())
	s := blobstore.NewWithBackend(fb, "", prefix)
	s.SetRetryPolicy(blobstore.RetryPolicy{MaxAttempts: 8, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	return s, fb
}

// Wrap returns a Store over the same backend as s with faults injected, with s's prefix
// and quick retries.
func Wrap(s *blobstore.Store) (*blobstore.Store, *Backend) {
	fb := New(s.Backend())
	w := blobstore.NewWithBackend(fb, s.BucketName(), s.Prefix())
	w.SetRetryPolicy(blobstore.RetryPolicy{MaxAttempts: 8, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	return w, fb
}

func (b *Backend) add(r *rule) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mu.rules = append(b.mu.rules, r)
}

// FailNth makes the n-th request from now (0 = the next one) fail once with err (nil: a
// transient *InjectedError).
func (b *Backend) FailNth(n int64, err error) {
	target := b.seq.Load() + n
	b.add(&rule{match: func(r Request) bool { return r.Seq == target }, act: actFail, err: err, remaining: 1})
}

// FailIf makes the next times requests matching match fail with err (nil: a transient
// *InjectedError); times < 0 means every time.
func (b *Backend) FailIf(match func(Request) bool, times int64, err error) {
	b.add(&rule{match: match, act: actFail, err: err, remaining: times})
}

// FailPermanentlyIf is FailIf with a non-retryable injected error.
func (b *Backend) FailPermanentlyIf(match func(Request) bool, times int64) {
	b.add(&rule{match: match, act: actFail, permanent: true, remaining: times})
}

// LoseReply lets the next `times` requests matching match reach the inner backend and
// then reports a transient failure instead of the result (times < 0: every time).
func (b *Backend) LoseReply(match func(Request) bool, times int64) {
	b.add(&rule{match: match, act: actLoseReply, remaining: times})
}

// SetLatency adds d before every request.
func (b *Backend) SetLatency(d time.Duration) { b.latency.Store(int64(d)) }

// Clear removes every rule and the latency.
func (b *Backend) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mu.rules = nil
	b.latency.Store(0)
}

// Requests returns how many requests reached this wrapper.
func (b *Backend) Requests() int64 { return b.seq.Load() }

// Record starts (or stops) keeping a log of requests; Log returns it.
func (b *Backend) Record(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mu.keep = on
	if !on {
		b.mu.log = nil
	}
}

// Log returns the requests recorded since Record(true).
func (b *Backend) Log() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.mu.log...)
}

// PutsTo matches writes whose key contains s.
func PutsTo(s string) func(Request) bool {
	return func(r Request) bool { return r.Op == OpPut && strings.Contains(r.Key, s) }
}

// OpsOn matches requests of op whose key contains s ("" matches any key).
func OpsOn(op Op, s string) func(Request) bool {
	return func(r Request) bool { return r.Op == op && strings.Contains(r.Key, s) }
}

// begin numbers the request, applies latency, and returns the rule that fires, if any.
func (b *Backend) begin(ctx context.Context, req *Request) (*rule, error) {
	req.Seq = b.seq.Add(1) - 1
	if d := time.Duration(b.latency.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mu.keep {
		b.mu.log = append(b.mu.log, *req)
	}
	for _, r := range b.mu.rules {
		if r.remaining != 0 && r.match(*req) {
			if r.remaining > 0 {
				r.remaining--
			}
			return r, nil
		}
	}
	return nil, nil
}

func (r *rule) error(req Request) error {
	if r.err != nil {
		return r.err
	}
	return &InjectedError{Req: req, Permanent: r.permanent}
}

// run applies the fired rule (if any) around call.
func (b *Backend) run(ctx context.Context, req Request, call func() error) error {
	r, err := b.begin(ctx, &req)
	if err != nil {
		return err
	}
	if r != nil && r.act == actFail {
		return r.error(req)
	}
	err = call()
	if r != nil && r.act == actLoseReply {
		return r.error(req)
	}
	return err
}

// Get implements blobstore.Backend.
func (b *Backend) Get(ctx context.Context, key string, offset, length int64) (data []byte, attrs blobstore.Attributes, err error) {
	err = b.run(ctx, Request{Op: OpGet, Key: key}, func() error {
		var e error
		data, attrs, e = b.inner.Get(ctx, key, offset, length)
		return e
	})
	if err != nil {
		return nil, blobstore.Attributes{}, err
	}
	return data, attrs, nil
}

// Head implements blobstore.Backend.
func (b *Backend) Head(ctx context.Context, key string) (attrs blobstore.Attributes, err error) {
	err = b.run(ctx, Request{Op: OpHead, Key: key}, func() error {
		var e error
		attrs, e = b.inner.Head(ctx, key)
		return e
	})
	return attrs, err
}

// Put implements blobstore.Backend.
func (b *Backend) Put(ctx context.Context, key string, data []byte, opts blobstore.PutOptions) (attrs blobstore.Attributes, err error) {
	err = b.run(ctx, Request{Op: OpPut, Key: key, Put: opts}, func() error {
		var e error
		attrs, e = b.inner.Put(ctx, key, data, opts)
		return e
	})
	return attrs, err
}

// Delete implements blobstore.Backend.
func (b *Backend) Delete(ctx context.Context, key string) error {
	return b.run(ctx, Request{Op: OpDelete, Key: key}, func() error { return b.inner.Delete(ctx, key) })
}

// List implements blobstore.Backend.
func (b *Backend) List(ctx context.Context, opts blobstore.ListOptions) (res *blobstore.ListResult, err error) {
	err = b.run(ctx, Request{Op: OpList, Key: opts.Prefix}, func() error {
		var e error
		res, e = b.inner.List(ctx, opts)
		return e
	})
	return res, err
}

// Close implements blobstore.Backend; it closes the inner backend.
func (b *Backend) Close() error { return b.inner.Close() }
