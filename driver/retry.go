package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Backoff defaults: the first retry waits about DefaultInitial, each next
// one twice as long, capped at DefaultMaxWait; the retries stop when the
// next attempt would start after the policy's Within.
const (
	DefaultInitial = 250 * time.Millisecond
	DefaultMaxWait = 5 * time.Second
	DefaultWithin  = 60 * time.Second
)

// Retry is the retry policy of a driver call: transient failures
// (connection refused or reset, timeouts, HTTP 5xx, 409) are retried with
// exponential backoff and jitter until the next attempt would start later
// than Within after the first; any other failure is returned at once. The
// zero value is usable (defaults, real time).
type Retry struct {
	// Within bounds the retries: no attempt starts later than Within after
	// the first (0: DefaultWithin). The phase's timeout (verify_timeout,
	// rollout_timeout) is passed here.
	Within time.Duration
	// Attempts, when > 0, also bounds the number of attempts.
	Attempts int
	// Initial and MaxWait shape the backoff (0: the defaults).
	Initial, MaxWait time.Duration
	// Now, Sleep and Jitter make the policy testable; nil: real time and
	// a random jitter. Jitter(d) returns a wait in [d/2, d].
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
	// Transient classifies an error; nil: IsTransient.
	Transient func(error) bool
}

// Do calls op until it succeeds, fails with a non-transient error, or the
// policy's time is spent. Every retry is written to log (the deployment
// log) as one line naming what failed and when the next attempt starts.
func (r Retry) Do(ctx context.Context, what string, log io.Writer, op func(ctx context.Context) error) error {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	transient := r.Transient
	if transient == nil {
		transient = IsTransient
	}
	within := orDefault(r.Within, DefaultWithin)
	wait := orDefault(r.Initial, DefaultInitial)
	maxWait := orDefault(r.MaxWait, DefaultMaxWait)
	deadline := now().Add(within)
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			if attempt > 1 {
				fmt.Fprintf(log, "%s retry: %s succeeded at attempt %d\n", stamp(now()), what, attempt)
			}
			return nil
		}
		if !transient(err) || ctx.Err() != nil {
			return err
		}
		d := r.jitter(wait)
		if now().Add(d).After(deadline) || (r.Attempts > 0 && attempt >= r.Attempts) {
			fmt.Fprintf(log, "%s retry: attempt %d failed (transient): %v; giving up (at most %s of retries%s)\n",
				stamp(now()), attempt, err, within, attemptsText(r.Attempts))
			return fmt.Errorf("%w (after %d attempts within %s)", err, attempt, within)
		}
		fmt.Fprintf(log, "%s retry: attempt %d failed (transient): %v; next attempt in %s\n",
			stamp(now()), attempt, err, d.Round(time.Millisecond))
		if serr := r.sleep(ctx, d); serr != nil {
			return err
		}
		wait = min(wait*2, maxWait)
	}
}

func (r Retry) jitter(d time.Duration) time.Duration {
	if r.Jitter != nil {
		return r.Jitter(d)
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func (r Retry) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	return poolpilot.Sleep(ctx, d)
}

func attemptsText(n int) string {
	if n > 0 {
		return fmt.Sprintf(", %d attempts", n)
	}
	return ""
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TransientError marks a failure worth retrying (an HTTP 5xx or 409, a
// Kubernetes conflict).
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err as a TransientError.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err}
}

// StatusError is an HTTP answer that was not a success.
type StatusError struct {
	Code int
	Err  error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// HTTPStatus is the status code, for callers that record it.
func (e *StatusError) HTTPStatus() int { return e.Code }

// TransientStatus reports whether an HTTP status is worth retrying: 5xx,
// 409 Conflict, 429 Too Many Requests, 408 Request Timeout.
func TransientStatus(code int) bool {
	return code >= 500 || code == 409 || code == 429 || code == 408
}

// IsTransient reports whether err is worth retrying: a TransientError, a
// StatusError with a transient status, a refused, reset or broken
// connection, a connection closed before the answer, or a network timeout.
// A cancelled context is never transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var te *TransientError
	if errors.As(err, &te) {
		return true
	}
	var se *StatusError
	if errors.As(err, &se) {
		return TransientStatus(se.Code)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
