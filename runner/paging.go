package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/notify"
)

// pageTimeout bounds one PagerDuty call; eventsDrain bounds the delivery
// of the queued JSON events when the run ends.
const (
	pageTimeout = 10 * time.Second
	eventsDrain = 30 * time.Second
)

// paging holds the run's pager (notify.pagerduty_routing_key_env) and its
// JSON event webhook (notify.events_webhook_env).
type paging struct {
	pd     *notify.PagerDuty
	events *notify.EventSink

	mu       sync.Mutex
	firstErr error // first failed event delivery
}

// setupPaging reads the routing key and the events URL from the env vars
// the plan names and returns them, to be redacted from the evidence.
func (r *runner) setupPaging() (secrets []string) {
	n := r.p.Notify
	if n.PagerDutyRoutingKeyEnv != "" {
		if k := r.getenv(n.PagerDutyRoutingKeyEnv); k != "" {
			secrets = append(secrets, k)
			r.pg.pd = &notify.PagerDuty{RoutingKey: k, URL: n.PagerDutyURL, Name: n.PagerDutyRoutingKeyEnv}
		} else {
			fmt.Fprintf(r.o.Log, "warning: notify.pagerduty_routing_key_env names %s but it is unset: this run cannot page\n", n.PagerDutyRoutingKeyEnv)
		}
	}
	if n.EventsWebhookEnv != "" {
		if u := r.getenv(n.EventsWebhookEnv); u != "" {
			secrets = append(secrets, u)
			r.pg.events = notify.NewEventSink(u, n.EventsWebhookEnv, nil, r.pg.eventFailed)
		} else {
			fmt.Fprintf(r.o.Log, "warning: notify.events_webhook_env names %s but it is unset: no events are sent\n", n.EventsWebhookEnv)
		}
	}
	return secrets
}

func (pg *paging) eventFailed(err error) {
	pg.mu.Lock()
	if pg.firstErr == nil {
		pg.firstErr = err
	}
	pg.mu.Unlock()
}

// eventHook is the evidence folder's OnAppend: each audit line, once
// written, is queued for the events webhook (nil: no webhook).
func (r *runner) eventHook() func(runID string, l evidence.Line) {
	sink := r.pg.events
	if sink == nil {
		return nil
	}
	plan := r.p.Name
	return func(runID string, l evidence.Line) {
		sink.Publish(notify.Event{Kind: l.Event, RunID: runID, Plan: plan, Time: l.Time,
			Seq: l.Seq, Actor: l.Actor, Hash: l.Hash, Data: l.Data})
	}
}

// stopEvents delivers the queued events (run_closed included) once the
// run is over, and says on the log what could not be delivered.
func (r *runner) stopEvents() {
	if r.pg.events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventsDrain)
	defer cancel()
	sent, failed, pending := r.pg.events.Close(ctx)
	if failed+pending == 0 {
		return
	}
	r.pg.mu.Lock()
	first := r.pg.firstErr
	r.pg.mu.Unlock()
	r.logf("warning: events webhook: %d event(s) delivered, %d failed, %d not sent within %s (first error: %v)", sent, failed, pending, eventsDrain, first)
}

// page is called with each controller notification: a failed rollback or
// a P0 incident triggers the run's page; reaching rolled_back, success or
// settled with a page open (from this process or, on --resume or poolpilot
// rollback, an earlier one) resolves it. Sends are recorded as paged or
// page_failed audit events.
func (r *runner) page(ctx context.Context, event, text string) {
	if r.pg.pd == nil || r.folder == nil {
		return
	}
	switch event {
	case "rollback_failed":
		r.sendPage(ctx, notify.ActionTrigger, "rollback_failed", text)
	case "incident":
		if class := r.lastIncidentClass(); class == "P0" {
			r.sendPage(ctx, notify.ActionTrigger, class, text)
		}
	case "rolled_back", "success", "settled": // settled: a staircase kept a smaller size that held
		if r.pageOpen() {
			r.sendPage(ctx, notify.ActionResolve, "", text)
		}
	}
}

func (r *runner) dedupKey() string { return "poolpilot/" + r.p.Name + "/" + r.folder.RunID() }

func (r *runner) sendPage(ctx context.Context, action, class, text string) {
	a := notify.Alert{Action: action, DedupKey: r.dedupKey(), Summary: "poolpilot: " + text,
		Source: "poolpilot/" + r.p.Name, Severity: notify.SeverityCritical, Component: r.p.Name,
		Group: "poolpilot", Class: class, Time: r.clock.Now(),
		Details: map[string]any{"plan": r.p.Name, "run_id": r.folder.RunID(), "evidence": r.dir, "class": class}}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pageTimeout)
	defer cancel()
	if err := r.pg.pd.Send(pctx, a); err != nil {
		r.event(evidence.PageFailed{Action: action, DedupKey: a.DedupKey, Error: err.Error()})
		r.logf("warning: PagerDuty %s failed (recorded): %v", action, err)
		return
	}
	ev := evidence.Paged{Action: action, DedupKey: a.DedupKey}
	if action == notify.ActionTrigger {
		ev.Class, ev.Severity = class, a.Severity
	}
	r.event(ev)
	r.logf("PagerDuty: %s %s", action, a.DedupKey)
}

// lastIncidentClass is the class of the run's latest incident event.
func (r *runner) lastIncidentClass() string {
	lines := r.folder.Lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Event == evidence.EventIncident {
			var inc evidence.Incident
			_ = json.Unmarshal(lines[i].Data, &inc)
			return inc.Class
		}
	}
	return ""
}

// pageOpen says whether the run's latest successful page was a trigger.
func (r *runner) pageOpen() bool {
	lines := r.folder.Lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Event == evidence.EventPaged {
			var d struct {
				Action string `json:"action"`
			}
			_ = json.Unmarshal(lines[i].Data, &d)
			return d.Action == notify.ActionTrigger
		}
	}
	return false
}
