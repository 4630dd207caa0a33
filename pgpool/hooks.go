package pgpool

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot/redact"
)

// hooks are the caller's pgx hooks (Options.Tracer, BeforeConnect,
// AfterConnect). They run beside the pool's own: the pool's dial timing,
// connection accounting and sweep guard stay in place.
type hooks struct {
	before func(context.Context, *pgx.ConnConfig) error
	after  func(context.Context, *pgx.Conn) error

	mu      sync.Mutex
	secrets []string // passwords set by before, newest last, scrubbed from errors
}

// maxHookSecrets bounds the passwords remembered for scrubbing: a rotating
// token (a cloud IAM token lives ~15 minutes) only needs the last few.
const maxHookSecrets = 8

func newHooks(opts Options) *hooks {
	return &hooks{before: opts.BeforeConnect, after: opts.AfterConnect}
}

// beforeConnect runs the caller's BeforeConnect on cc (a copy per
// connection) and remembers the password it set so that no error text the
// pool returns or logs holds it.
func (h *hooks) beforeConnect(ctx context.Context, cc *pgx.ConnConfig) error {
	if h == nil || h.before == nil {
		return nil
	}
	prev := cc.Password
	if err := h.before(ctx, cc); err != nil {
		return err
	}
	if cc.Password != "" && cc.Password != prev {
		h.remember(cc.Password)
	}
	return nil
}

// afterConnect runs the caller's AfterConnect (e.g. registering custom
// types) before the pool counts the connection as opened.
func (h *hooks) afterConnect(ctx context.Context, c *pgx.Conn) error {
	if h == nil || h.after == nil {
		return nil
	}
	return h.after(ctx, c)
}

func (h *hooks) remember(pw string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.secrets {
		if s == pw {
			return
		}
	}
	h.secrets = append(h.secrets, pw)
	if len(h.secrets) > maxHookSecrets {
		h.secrets = h.secrets[len(h.secrets)-maxHookSecrets:]
	}
}

// scrub replaces every password a BeforeConnect set with redact.Placeholder.
func (h *hooks) scrub(msg string) string {
	if h == nil {
		return msg
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return redact.Secrets(msg, h.secrets...)
}

// redactedError is an error the pool returns: its text has the password
// (from DATABASE_URL or a BeforeConnect) replaced, and Unwrap gives the
// driver's error, so errors.As finds a *pgconn.PgError (SQLSTATE 53300
// and the rest) or a *pgconn.ConnectError. The unwrapped error's own text
// is the driver's and is not redacted: log the pool's error, not the
// unwrapped one.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err for returning: scrubbed text, original type.
func (p *Pool) redact(err error) error {
	return &redactedError{msg: p.scrub(err), err: err}
}
