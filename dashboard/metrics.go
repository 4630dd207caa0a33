package dashboard

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
)

// allStates are the run states /metrics exports, one series each (1 for
// the current one, 0 for the others), so that an alert on a state never
// depends on a series appearing.
var allStates = []change.State{
	change.StatePreflight, change.StateAwaitingApproval, change.StateApproved, change.StateBaseline,
	change.StateApplying, change.StateVerifying, change.StateLoadTest, change.StateSoak, change.StateSucceeded,
	change.StateStepping, change.StateSettled, change.StateRollingBack, change.StateRolledBack, change.StateRollbackFailed, change.StateRefused,
}

var criterionStates = []criteria.State{criteria.StateOK, criteria.StatePending, criteria.StateFiring, criteria.StateInconclusive}

// handleMetrics serves the live runs' state for Prometheus (text format
// 0.0.4): 404 when no token is configured, 401 without the bearer token
// (MetricsToken, else Token). Runs read from evidence folders are not
// exported: a finished run has nothing to alert on.
func (h *Hub) handleMetrics(w http.ResponseWriter, r *http.Request) {
	want := h.opts.MetricsToken
	if want == "" {
		want = h.opts.Token
	}
	if want == "" {
		writeErr(w, http.StatusNotFound, "/metrics is off: the dashboard was started without a token (Prometheus sends it as a bearer token)")
		return
	}
	if ok, why := h.bearerOK(r, want); !ok {
		h.logf("/metrics refused from %s: %s", r.RemoteAddr, why)
		w.Header().Set("WWW-Authenticate", `Bearer realm="poolpilot"`)
		writeErr(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <the dashboard's metrics token>")
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(h.metricsText())
}

// metricFamily is one metric's HELP, TYPE and samples.
type metricFamily struct {
	name, help string
	lines      []string
}

func (f *metricFamily) add(v float64, labels ...string) {
	var b strings.Builder
	b.WriteString(f.name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatValue(v))
	f.lines = append(f.lines, b.String())
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// runMetrics are the families, in exposition order.
type runMetrics struct {
	state, stateSince, started, ended                        metricFamily
	crit, critValue, critThreshold, critHeld, critTimeToFire metricFamily
}

func newRunMetrics() *runMetrics {
	return &runMetrics{
		state:          metricFamily{name: "poolpilot_run_state", help: "1 for the run's current state, 0 for every other state."},
		stateSince:     metricFamily{name: "poolpilot_run_state_entered_timestamp_seconds", help: "When the run entered its current state (Unix time)."},
		started:        metricFamily{name: "poolpilot_run_started_timestamp_seconds", help: "When the run started (Unix time)."},
		ended:          metricFamily{name: "poolpilot_run_ended_timestamp_seconds", help: "When the run ended (Unix time); absent while it runs."},
		crit:           metricFamily{name: "poolpilot_criterion_state", help: "1 for the criterion's current state (ok, pending, firing, inconclusive), 0 for the others; absent before the first evaluation."},
		critValue:      metricFamily{name: "poolpilot_criterion_value", help: "The criterion's last measured value; absent when there is no data (absent is never zero)."},
		critThreshold:  metricFamily{name: "poolpilot_criterion_threshold", help: "The criterion's threshold."},
		critHeld:       metricFamily{name: "poolpilot_criterion_held_seconds", help: "How long the current breach (pending, firing) or lack of data (inconclusive) has lasted."},
		critTimeToFire: metricFamily{name: "poolpilot_criterion_time_to_fire_seconds", help: "Seconds left before a pending criterion fires (0 once firing); absent when it is ok or inconclusive."},
	}
}

func (m *runMetrics) families() []*metricFamily {
	return []*metricFamily{&m.state, &m.stateSince, &m.started, &m.ended, &m.crit, &m.critValue, &m.critThreshold, &m.critHeld, &m.critTimeToFire}
}

// metricsText renders every live run's state and criteria, runs sorted
// by id, through the Hub's redactor.
func (h *Hub) metricsText() []byte {
	h.mu.Lock()
	runs := make([]*run, 0, len(h.live))
	for _, r := range h.live {
		runs = append(runs, r)
	}
	h.mu.Unlock()
	sort.Slice(runs, func(i, j int) bool { return runs[i].id < runs[j].id })
	m := newRunMetrics()
	for _, r := range runs {
		r.mu.Lock()
		m.addRunLocked(r)
		r.mu.Unlock()
	}
	var b bytes.Buffer
	for _, f := range m.families() {
		if len(f.lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", f.name, f.help, f.name)
		for _, l := range f.lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return []byte(h.red.Redact(b.String()))
}

func (m *runMetrics) addRunLocked(r *run) {
	plan := r.planName
	if r.plan != nil {
		plan = r.plan.Name
	}
	id := []string{"plan", plan, "run_id", r.id}
	for _, s := range allStates {
		m.state.add(boolValue(r.state == s), append(id, "state", string(s))...)
	}
	if !r.stateSince.IsZero() {
		m.stateSince.add(unixSeconds(r.stateSince), id...)
	}
	if !r.started.IsZero() {
		m.started.add(unixSeconds(r.started), id...)
	}
	if r.terminal && !r.ended.IsZero() {
		m.ended.add(unixSeconds(r.ended), id...)
	}
	for _, c := range r.criteria {
		cl := append(append([]string(nil), id...), "criterion", c.Name)
		for _, s := range criterionStates {
			m.crit.add(boolValue(c.State == string(s)), append(cl, "role", c.Role, "class", c.Class, "state", string(s))...)
		}
		if c.Value != nil {
			m.critValue.add(*c.Value, cl...)
		}
		if c.Threshold != nil {
			m.critThreshold.add(*c.Threshold, cl...)
		}
		m.critHeld.add(c.HeldS, cl...)
		switch c.State {
		case string(criteria.StatePending):
			m.critTimeToFire.add(c.LeftS, cl...)
		case string(criteria.StateFiring):
			m.critTimeToFire.add(0, cl...)
		}
	}
}
