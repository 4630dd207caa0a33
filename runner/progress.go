package runner

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/report"
)

// progressText is the progress line of one evaluation, its numbers
// rounded for people:
//
//	07:01:02  [soak 2.0 s elapsed, 38.0 s left] ok 5, pending 1, firing 0, inconclusive 1: error_rate 3.85 % pending (held 1.5 s, fires in 2.5 s), latency_p95 inconclusive for 6.0 s
func progressText(now time.Time, phase string, elapsed, total time.Duration, ev criteria.Evaluation) string {
	counts := map[criteria.State]int{}
	var notes []string
	for _, res := range ev.Results {
		counts[res.State]++
		if n := progressNote(res); n != "" {
			notes = append(notes, n)
		}
	}
	line := fmt.Sprintf("%s  [%s %s elapsed, %s left] ok %d, pending %d, firing %d, inconclusive %d",
		now.UTC().Format("15:04:05"), phase, criteria.HumanDuration(elapsed), criteria.HumanDuration(max(total-elapsed, 0)),
		counts[criteria.StateOK], counts[criteria.StatePending], counts[criteria.StateFiring], counts[criteria.StateInconclusive])
	if len(notes) > 0 {
		line += ": " + short(strings.Join(notes, ", "), 240)
	}
	return line
}

// progressNote describes a criterion that is not ok ("" when it is).
func progressNote(res criteria.Result) string {
	name := res.Name
	if res.Value != nil {
		name += " " + criteria.Human(res.Metric(), *res.Value)
	}
	held := criteria.HumanSeconds(res.HeldS)
	switch res.State {
	case criteria.StatePending:
		return fmt.Sprintf("%s pending (held %s, fires in %s)", name, held, criteria.HumanSeconds(res.LeftS))
	case criteria.StateFiring:
		return fmt.Sprintf("%s FIRING (held %s)", name, held)
	case criteria.StateInconclusive:
		return fmt.Sprintf("%s inconclusive for %s", res.Name, held)
	}
	return ""
}

// humanWriter rounds the numbers of the lines written through it for
// people (the controller's state lines carry the criteria engine's
// reasons: "latency_p95_ms 522.239 … for 3.476832812s" becomes
// "latency_p95_ms 522 ms … for 3.5 s"). The journal and the audit log keep
// the exact reasons.
type humanWriter struct{ w io.Writer }

func (h humanWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(h.w, report.Humanize(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
