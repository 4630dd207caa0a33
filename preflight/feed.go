package preflight

import (
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot/source/health"
)

// instanceDocs are the documents preflight read, in the plan's order; nil
// when the prober cannot return documents.
func (pf *Checker) instanceDocs(healths map[string]probe) []health.InstanceDoc {
	var out []health.InstanceDoc
	for _, in := range pf.Plan.Instances {
		pr := healths[in.Name]
		if !pr.hasDoc {
			return nil
		}
		d := health.InstanceDoc{Instance: in.Name, Doc: pr.doc, Err: pr.err}
		if pr.doc.Fields != nil {
			d.Err = nil // a 503 document still shows which fields the service sends
		}
		out = append(out, d)
	}
	return out
}

// criteriaFedCheck refuses a plan with a criterion that no instance's
// health document can feed, naming the criterion and the missing fields;
// an optional criterion is skipped with a warning instead. Criteria fed by
// other sources (pgstat, hostcpu, prom, …) are listed in Data only.
func (pf *Checker) criteriaFedCheck(docs []health.InstanceDoc) Check {
	c := Check{ID: "criteria_fed", Title: "Every criterion has data (health document fields)"}
	if docs == nil {
		c.Status, c.Detail = CheckWarn, "the prober does not return the documents' fields: not checked"
		return c
	}
	feeds := health.Feeds(pf.Plan.Criteria, docs)
	c.Data = feeds
	var fails, warns []string
	n := 0
	for _, f := range feeds {
		if f.Source != health.Name {
			continue
		}
		n++
		switch {
		case (f.Status == health.FeedNone || f.Status == health.FeedUnknown) && f.Optional:
			warns = append(warns, fmt.Sprintf("criterion %s is optional and will be skipped: %s", f.Criterion, f.Detail))
		case f.Status == health.FeedNone || f.Status == health.FeedUnknown:
			fails = append(fails, fmt.Sprintf("criterion %s: %s", f.Criterion, f.Detail))
		case f.Status == health.FeedPartial:
			warns = append(warns, fmt.Sprintf("criterion %s: %s", f.Criterion, f.Detail))
		}
	}
	switch {
	case len(fails) > 0:
		c.Status = CheckFail
		c.Detail = strings.Join(append(fails, warns...), "; ") +
			". No instance can feed these criteria: send the fields (see docs/contract.md, or run poolpilot probe URL), or mark the criterion optional: true to run without it"
	case len(warns) > 0:
		c.Status, c.Detail = CheckWarn, strings.Join(warns, "; ")
	default:
		c.Status, c.Detail = CheckPass, fmt.Sprintf("the %d criteria read from /healthz have their fields on every instance", n)
	}
	return c
}

// requestDataMissing names the request fields baseline_health needs that
// the instance's document lacks (nil when it carries them all).
func requestDataMissing(pr probe) []string {
	need := []string{"requests.total", "requests.error_rate", "requests.latency_p95_ms"}
	if !pr.hasDoc {
		if pr.h.Requests == nil {
			return need
		}
		return nil
	}
	var out []string
	for _, f := range need {
		if !pr.doc.Has(f) {
			out = append(out, f)
		}
	}
	return out
}
