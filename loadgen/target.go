package loadgen

import (
	"context"
	"errors"
	"fmt"
)

// Target is what the engine sends load to: one call of Do is one request.
// Do must honour ctx (the engine cancels it on its per-request timeout and
// on a hard stop) and be safe for concurrent use.
//
// A non-nil error counts the request as an error. A Result whose Violation
// is set counts it as a violation: the response contradicted what the
// workload knows (a stale balance, another tenant's data). Violations are
// counted apart from errors; both may be set.
type Target interface {
	Do(ctx context.Context) (Result, error)
}

// Result is what a target reports about one request besides its error.
type Result struct {
	// Op names the operation (e.g. "post", "balance"), for per-op counts.
	Op string
	// Violation describes a correctness violation, or is nil.
	Violation error
}

// TargetFunc adapts a function to a Target.
type TargetFunc func(ctx context.Context) (Result, error)

// Do calls f.
func (f TargetFunc) Do(ctx context.Context) (Result, error) { return f(ctx) }

// Preflighter is implemented by targets that can check, before a run, that
// they are reachable. The engine does not call it; commands do, to refuse an
// unreachable target as bad input instead of reporting a run full of errors.
type Preflighter interface {
	Preflight(ctx context.Context) error
}

// PoolSampler is implemented by targets that go through a connection pool.
// The engine samples it once a second.
type PoolSampler interface {
	PoolSample() PoolSample
}

// PoolSample is one reading of a pool's state.
type PoolSample struct {
	WaitP95MS   float64 // acquire wait p95 over the pool's window
	Utilization float64 // acquired / max, 0..1
}

// Kinder is implemented by errors that name their kind for the error
// breakdown (e.g. "http_503", "connect").
type Kinder interface {
	Kind() string
}

// StatusError is an HTTP response with an unexpected status.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("unexpected HTTP status %d", e.Code) }

// Kind returns "http_<code>".
func (e *StatusError) Kind() string { return fmt.Sprintf("http_%d", e.Code) }

// ErrorKind classifies an error as the report's breakdown does: http_503,
// timeout, refused, reset, …
func ErrorKind(err error) string { return errKind(err) }

// errKind classifies an error for the breakdown in the report.
func errKind(err error) string {
	var k Kinder
	switch {
	case errors.As(err, &k):
		return k.Kind()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "error"
	}
}
