package health

import (
	"fmt"
	"sort"
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
)

// InstanceDoc is one instance's health document, or why it could not be
// read.
type InstanceDoc struct {
	Instance string
	Doc      Document
	Err      error
}

// Feed statuses.
const (
	FeedOK      = "fed"          // every instance that answered carries the fields
	FeedPartial = "partial"      // some instances carry them, others do not: gaps there
	FeedNone    = "not_fed"      // no instance carries them
	FeedUnknown = "unknown"      // no instance answered, or the expression does not parse
	FeedOther   = "other_source" // the metric does not come from the health document
)

// Feed says whether the health documents of a service can feed one
// criterion. Preflight's criteria_fed check and poolpilot probe both read
// it.
type Feed struct {
	Criterion string `json:"criterion"`
	Metric    string `json:"metric"`
	Source    string `json:"source"`
	Optional  bool   `json:"optional,omitempty"`
	Status    string `json:"status"`
	// Missing maps an instance to the fields its document lacks.
	Missing map[string][]string `json:"missing,omitempty"`
	Detail  string              `json:"detail"`
}

// Feeds tells, for each criterion, whether the documents can feed it.
func Feeds(specs []poolpilot.CriterionSpec, docs []InstanceDoc) []Feed {
	out := make([]Feed, 0, len(specs))
	for _, c := range specs {
		out = append(out, feedOf(c, docs))
	}
	return out
}

func feedOf(c poolpilot.CriterionSpec, docs []InstanceDoc) Feed {
	f := Feed{Criterion: c.Name, Optional: c.Optional}
	x, err := criteria.ParseExpr(c.Expr)
	if err != nil {
		f.Status, f.Detail = FeedUnknown, fmt.Sprintf("expr %q: %v", c.Expr, err)
		return f
	}
	f.Metric = x.Metric
	fields, ok := metricFields[x.Metric]
	if !ok {
		f.Source = "unknown"
		if info, known := criteria.LookupMetric(x.Metric); known {
			f.Source = info.Source
		}
		f.Status, f.Detail = FeedOther, fmt.Sprintf("metric %s comes from source %s, not from the health document", x.Metric, f.Source)
		return f
	}
	f.Source = Name
	var fed, unread []string
	for _, d := range docs {
		switch {
		case d.Err != nil:
			unread = append(unread, d.Instance)
		case len(d.Doc.Missing(x.Metric)) > 0:
			if f.Missing == nil {
				f.Missing = map[string][]string{}
			}
			f.Missing[d.Instance] = d.Doc.Missing(x.Metric)
		default:
			fed = append(fed, d.Instance)
		}
	}
	need := "needs nothing but the document"
	if len(fields) > 0 {
		need = "needs " + strings.Join(fields, ", ")
	}
	switch {
	case len(fed) == 0 && len(f.Missing) == 0:
		f.Status, f.Detail = FeedUnknown, fmt.Sprintf("metric %s %s; no instance answered (%s)", x.Metric, need, strings.Join(unread, ", "))
	case len(f.Missing) == 0:
		f.Status, f.Detail = FeedOK, fmt.Sprintf("metric %s %s: carried by %s", x.Metric, need, strings.Join(fed, ", "))
	case len(fed) == 0:
		f.Status, f.Detail = FeedNone, fmt.Sprintf("metric %s: %s", x.Metric, missingText(f.Missing))
	default:
		f.Status, f.Detail = FeedPartial, fmt.Sprintf("metric %s: %s (a gap there); carried by %s", x.Metric, missingText(f.Missing), strings.Join(fed, ", "))
	}
	if len(unread) > 0 && f.Status != FeedUnknown {
		f.Detail += fmt.Sprintf("; not answered: %s", strings.Join(unread, ", "))
	}
	return f
}

// missingText names the absent fields per instance, grouping instances
// that lack the same fields.
func missingText(m map[string][]string) string {
	byFields := map[string][]string{}
	for inst, fields := range m {
		k := AbsentReason(fields)
		byFields[k] = append(byFields[k], inst)
	}
	var parts []string
	for reason, insts := range byFields {
		sort.Strings(insts)
		parts = append(parts, fmt.Sprintf("%s of %s", reason, strings.Join(insts, ", ")))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
