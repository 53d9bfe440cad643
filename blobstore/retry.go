package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"google.golang.org/api/googleapi"
)

// RetryPolicy says how a Store retries transient failures: exponential backoff with full
// jitter (each wait is uniformly random in [0, min(MaxBackoff, InitialBackoff·2^attempt)]).
type RetryPolicy struct {
	// MaxAttempts is the most attempts per operation, the first included. Default: 6.
	// 1 disables retries.
	MaxAttempts int
	// InitialBackoff bounds the first wait. Default: 50ms.
	InitialBackoff time.Duration
	// MaxBackoff bounds every wait. Default: 3s.
	MaxBackoff time.Duration
}

// DefaultRetryPolicy returns the policy a new Store uses.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 3 * time.Second}
}

// withDefaults fills zero fields.
func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = d.InitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	return p
}

// backoff returns the wait before attempt number attempt+1 (attempt counts from 0).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	limit := p.InitialBackoff
	for i := 0; i < attempt && limit < p.MaxBackoff; i++ {
		limit *= 2
	}
	limit = min(limit, p.MaxBackoff)
	return time.Duration(rand.Int64N(int64(limit) + 1))
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isTransient reports whether err is worth retrying: the request may succeed if sent again.
// Not-found, precondition failures, invalid input and the caller's own cancellation never are.
func isTransient(err error) bool {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrPreconditionFailed) ||
		errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrInvalidRange) || errors.Is(err, ErrClosed) ||
		errors.Is(err, context.Canceled) {
		return false
	}
	var marked interface{ Transient() bool }
	if errors.As(err, &marked) {
		return marked.Transient()
	}
	if code, ok := httpStatus(err); ok {
		return code == 408 || code == 429 || code >= 500
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// httpStatus extracts the HTTP status code of a cloud SDK error.
func httpStatus(err error) (int, bool) {
	var aws interface{ HTTPStatusCode() int } // smithy-go (AWS SDK v2) response errors
	if errors.As(err, &aws) {
		return aws.HTTPStatusCode(), true
	}
	var az *azcore.ResponseError
	if errors.As(err, &az) {
		return az.StatusCode, true
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code, true
	}
	return 0, false
}

// do runs op under the Store's retry policy. op receives the attempt number (0 first).
// It returns op's last error, annotated with the attempt count when retries ran out.
func (s *Store) do(ctx context.Context, op func(attempt int) error) error {
	p := s.retry
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.stats.retries.Add(1)
			if s.onRetry != nil {
				s.onRetry()
			}
		}
		err := op(attempt)
		if err == nil {
			return nil
		}
		if !isTransient(err) {
			return err
		}
		s.stats.requestErrors.Add(1)
		if attempt+1 >= p.MaxAttempts {
			return fmt.Errorf("after %d attempts: %w", attempt+1, err)
		}
		if ctx.Err() != nil {
			return err
		}
		if serr := sleep(ctx, p.backoff(attempt)); serr != nil {
			return err
		}
	}
}
