package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

// CriterionCoverage is how much of the soak one criterion was watched:
// conclusive (ok, pending or firing: there was data), inconclusive (no
// data, a gap, a stale source) and not watched at all (no evaluation: a
// frozen or crashed controller).
type CriterionCoverage struct {
	Name         string        `json:"name"`
	Role         string        `json:"role"`
	Conclusive   time.Duration `json:"conclusive_ns"`
	Inconclusive time.Duration `json:"inconclusive_ns"`
	Unwatched    time.Duration `json:"unwatched_ns"`
	Soak         time.Duration `json:"soak_ns"`
}

// Observed says whether the criterion was conclusive for the whole soak
// (an evaluation interval of slack at its edges).
func (c CriterionCoverage) Observed(interval time.Duration) bool {
	return c.Inconclusive == 0 && c.Unwatched <= interval
}

// Coverage derives each criterion's coverage of the soak from the
// per-evaluation states of sustained_monitoring.json: every sample in the
// soak stands for the time to the next one, at most one evaluation
// interval; a criterion missing from a sample's states counts as
// inconclusive (absent is never ok). Criteria are in the file's order
// (or by name when it lists none).
func Coverage(sm *evidence.SustainedMonitoring) []CriterionCoverage {
	if sm == nil {
		return nil
	}
	interval := time.Duration(sm.IntervalSeconds * float64(time.Second))
	if interval <= 0 {
		interval = time.Second
	}
	var soak []evidence.Sample
	for _, s := range sm.Samples {
		if (sm.Started.IsZero() || !s.Time.Before(sm.Started)) && (sm.Ended.IsZero() || !s.Time.After(sm.Ended)) {
			soak = append(soak, s)
		}
	}
	span := sm.Ended.Sub(sm.Started)
	if sm.Started.IsZero() || sm.Ended.IsZero() || span < 0 {
		span = time.Duration(len(soak)) * interval
	}
	out := coverageRows(sm, soak)
	for i := range out {
		c := &out[i]
		for j, s := range soak {
			end := sm.Ended
			if j+1 < len(soak) {
				end = soak[j+1].Time
			}
			dt := interval
			if !end.IsZero() {
				dt = min(max(end.Sub(s.Time), 0), interval)
			}
			if st, ok := s.States[c.Name]; ok && st != evidence.StateInconclusive {
				c.Conclusive += dt
			} else {
				c.Inconclusive += dt
			}
		}
		c.Soak = span
		c.Unwatched = max(span-c.Conclusive-c.Inconclusive, 0)
	}
	return out
}

func coverageRows(sm *evidence.SustainedMonitoring, soak []evidence.Sample) []CriterionCoverage {
	var out []CriterionCoverage
	for _, c := range sm.Criteria {
		out = append(out, CriterionCoverage{Name: c.Name, Role: c.Role})
	}
	if len(out) > 0 {
		return out
	}
	seen := map[string]bool{}
	for _, s := range soak {
		for n := range s.States {
			seen[n] = true
		}
	}
	for n := range seen {
		out = append(out, CriterionCoverage{Name: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// soakHeadline is what the report may say about the success criteria of a
// run that succeeded: that it held every one of them only when every one
// was observed for the whole soak; otherwise which were not, and for how
// long.
func soakHeadline(sm *evidence.SustainedMonitoring) string {
	if sm == nil {
		return "The change was applied and verified, but no soak monitoring was recorded: whether the success criteria held was not observed."
	}
	interval := time.Duration(sm.IntervalSeconds * float64(time.Second))
	var gaps []string // "inconclusive for 1.0 s of the 2 min soak", in order
	names := map[string][]string{}
	success := 0
	for _, c := range Coverage(sm) {
		if c.Role != "success" {
			continue
		}
		success++
		if c.Observed(interval) {
			continue
		}
		var g []string
		if c.Inconclusive > 0 {
			g = append(g, "inconclusive for "+criteria.HumanDuration(c.Inconclusive))
		}
		if c.Unwatched > interval {
			g = append(g, "not watched for "+criteria.HumanDuration(c.Unwatched))
		}
		key := strings.Join(g, " and ") + " of the " + criteria.HumanDuration(c.Soak) + " soak"
		if names[key] == nil {
			gaps = append(gaps, key)
		}
		names[key] = append(names[key], c.Name)
	}
	for i, g := range gaps {
		gaps[i] = strings.Join(names[g], ", ") + " " + g
	}
	switch {
	case sm.Verdict != evidence.VerdictPass:
		return fmt.Sprintf("The change was applied and verified, but the soak's verdict is %s: %s.", sm.Verdict, Humanize(sm.Reason))
	case len(gaps) > 0:
		return "The change was applied, verified and load-tested, and no success criterion failed, but not every one was observed: " + strings.Join(gaps, "; ") + "."
	case success == 0:
		return "The change was applied, verified and load-tested; the plan has no success criterion to hold."
	}
	return fmt.Sprintf("The change was applied, verified, load-tested and held every success criterion for the whole soak (%s, evaluated every %s).",
		criteria.HumanDuration(sm.Ended.Sub(sm.Started)), criteria.HumanDuration(interval))
}
