package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestIsTransient(t *testing.T) {
	refused := &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{refused, true},
		{fmt.Errorf("wrap: %w", syscall.ECONNRESET), true},
		{&url.Error{Op: "Put", Err: io.EOF}, true},
		{&StatusError{Code: 503, Err: errors.New("503")}, true},
		{&StatusError{Code: 409, Err: errors.New("409")}, true},
		{&StatusError{Code: 500, Err: errors.New("500")}, true},
		{&StatusError{Code: 400, Err: errors.New("400")}, false},
		{&StatusError{Code: 401, Err: errors.New("401")}, false},
		{&StatusError{Code: 403, Err: errors.New("403")}, false},
		{&StatusError{Code: 422, Err: errors.New("422")}, false},
		{Transient(errors.New("conflict")), true},
		{errors.New("env file: permission denied"), false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	r := Retry{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	err := r.Do(ctx, "x", io.Discard, func(context.Context) error { calls++; return Transient(errors.New("busy")) })
	if err == nil || calls != 1 {
		t.Errorf("err %v after %d calls, want the failure after 1", err, calls)
	}
}

func TestRetryBackoffIsCappedAndJittered(t *testing.T) {
	now := time.Unix(0, 0)
	var waits []time.Duration
	r := Retry{Within: time.Minute, Initial: time.Second, MaxWait: 3 * time.Second, Now: func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); now = now.Add(d); return nil }}
	calls := 0
	_ = r.Do(context.Background(), "x", io.Discard, func(context.Context) error {
		calls++
		if calls == 6 {
			return nil
		}
		return Transient(errors.New("busy"))
	})
	if len(waits) != 5 {
		t.Fatalf("waits %v", waits)
	}
	bases := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	for i, w := range waits {
		if w < bases[i]/2 || w > bases[i] {
			t.Errorf("wait %d = %s, want in [%s, %s]", i, w, bases[i]/2, bases[i])
		}
	}
}
