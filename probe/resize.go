package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/contract"
	"github.com/poolpilot/poolpilot/source/health"
)

// resizeCheck raises the pool's max by one through PUT /admin/pool, checks
// the answer and that the health document follows within ResizeTimeout,
// then puts max and min back and checks again. The way back is tried even
// when the way up failed, detached from ctx.
func resizeCheck(ctx context.Context, o Options, cur health.Document) Check {
	c := Check{ID: "resize", Status: Pass}
	from := cur.Pool
	up := from.Max + 1
	var bad []string
	if err := resizeTo(ctx, o, up, from.Min); err != nil {
		bad = append(bad, fmt.Sprintf("up to max %d: %v", up, err))
	}
	back, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ResizeTimeout+o.Timeout)
	defer cancel()
	if err := resizeTo(back, o, from.Max, from.Min); err != nil {
		bad = append(bad, fmt.Sprintf("back to max %d min %d: %v (CHECK THE SERVICE: its pool may be left resized)", from.Max, from.Min, err))
	}
	c.Detail = fmt.Sprintf("max %d → %d → %d (min %d): the answers follow contract/admin-pool.schema.json and /healthz followed", from.Max, up, from.Max, from.Min)
	if len(bad) > 0 {
		c.Status, c.Detail = Fail, strings.Join(bad, "; ")
	}
	return c
}

// resizeTo PUTs {"max":max,"min":min} and waits for the document to show it.
func resizeTo(ctx context.Context, o Options, max, min int) error {
	body, _ := json.Marshal(map[string]int{"max": max, "min": min})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, o.AdminURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.Client.Do(req)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", o.AdminURL, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("PUT %s: read answer: %w", o.AdminURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b))
		if contract.AdminError().Validate(b) != nil {
			msg += " (and the error answer is not {\"error\": \"…\"})"
		}
		return fmt.Errorf("PUT %s: HTTP %d: %s", o.AdminURL, resp.StatusCode, msg)
	}
	if err := contract.ResizeAnswer().Validate(b); err != nil {
		return fmt.Errorf("the 200 answer %v", err)
	}
	var ans struct{ Max, Min int }
	if err := json.Unmarshal(b, &ans); err != nil || ans.Max != max || ans.Min != min {
		return fmt.Errorf("the 200 answer says max %d min %d, want %d and %d", ans.Max, ans.Min, max, min)
	}
	return follow(ctx, o, max, min)
}

// follow polls the health document until it shows max and min.
func follow(ctx context.Context, o Options, max, min int) error {
	ctx, cancel := context.WithTimeout(ctx, o.ResizeTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := "no answer"
	for {
		p, err := fetch(ctx, o.Client, o.URL)
		switch {
		case ctx.Err() != nil:
			// the deadline cut this fetch: keep the last answer seen
		case err != nil:
			last = err.Error()
		case p.err != nil:
			last = p.err.Error()
		case p.doc.Pool.Max == max && p.doc.Pool.Min == min:
			return nil
		default:
			last = fmt.Sprintf("pool max %d min %d", p.doc.Pool.Max, p.doc.Pool.Min)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("/healthz did not show max %d min %d within %s (last: %s)", max, min, o.ResizeTimeout, last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
