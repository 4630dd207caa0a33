package advisor

import (
	"fmt"
	"io"
	"strings"
)

// StepHeader is the header of the step table.
const StepHeader = "concurrency  throughput/s   p50_ms   p95_ms   p99_ms   errors  wait_p95_ms  db_cpu"

// StepLine formats one step as a row of the table.
func StepLine(s Step) string {
	cpu := "     n/a"
	if s.DBCPU != nil {
		cpu = fmt.Sprintf("%7.0f%%", 100**s.DBCPU)
	}
	mark := ""
	if s.Excluded {
		mark = "  excluded: errors > 1%"
	}
	return fmt.Sprintf("%11d  %12.1f  %7s  %7s  %7s  %7d  %11s %s%s",
		s.Concurrency, s.Throughput, ms(s.P50MS), ms(s.P95MS), ms(s.P99MS), s.Errors, ms(s.WaitP95MS), cpu, mark)
}

// ProgressLine is the live line printed on stderr after each step.
func ProgressLine(round, i, of int, s Step) string {
	r := ""
	if round > 1 {
		r = fmt.Sprintf("round %d, ", round)
	}
	what := fmt.Sprintf("concurrency %d", s.Concurrency)
	if s.Clients > 0 {
		what = fmt.Sprintf("pool max %d, %d clients", s.Concurrency, s.Clients)
	}
	return fmt.Sprintf("%sstep %d/%d: %s: %.0f/s, p95 %s ms, %d errors, pool wait p95 %s ms",
		r, i+1, of, what, s.Throughput, ms(s.P95MS), s.Errors, ms(s.WaitP95MS))
}

// WriteText writes the human form of the report: the step table, the fit
// with measured against fitted throughput, the recommendation and the
// budget.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "poolpilot size: workload %s against %s", r.Workload, r.Target)
	if r.ServerVersion != "" {
		fmt.Fprintf(&b, " (PostgreSQL %s)", r.ServerVersion)
	}
	fmt.Fprintf(&b, "; closed model, %gs warm-up + %gs measured per step, ", r.WarmupS, r.StepDurationS)
	if r.Clients > 0 {
		fmt.Fprintf(&b, "%d clients, the service's pool max swept", r.Clients)
	} else {
		b.WriteString("pool max = concurrency")
	}
	if r.Rounds > 1 {
		fmt.Fprintf(&b, "; each step the median of %d rounds", r.Rounds)
	}
	b.WriteString("\n\n")
	b.WriteString(StepHeader + "\n")
	for _, s := range r.Steps {
		b.WriteString(StepLine(s) + "\n")
	}
	fmt.Fprintf(&b, "stopped: %s", r.Stopped)
	if r.StoppedDetail != "" {
		fmt.Fprintf(&b, " (%s)", r.StoppedDetail)
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	b.WriteString("\n")
	r.writeFit(&b)
	b.WriteString("\n")
	if r.Recommended.Refused {
		fmt.Fprintf(&b, "No recommendation: %s.\n", r.Recommended.Reason)
	} else {
		fmt.Fprintf(&b, "Recommended per instance: max %d, min %d (method %s).\n  %s.\n  min = ceil(max/%d): connections kept open for a burst without dialling.\n",
			r.Recommended.Max, r.Recommended.Min, r.Recommended.Method, r.Recommended.Reason, MinShare)
	}
	if r.Budget != nil {
		fmt.Fprintf(&b, "\nBudget: %s.\n", r.Budget.Message)
		if p := r.Budget.Plan; p != nil {
			fmt.Fprintf(&b, "Plan: %s.\n", p.Message)
			if p.Warning != "" {
				fmt.Fprintf(&b, "Plan: WARNING: %s.\n", p.Warning)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeFit(b *strings.Builder) {
	if r.USL == nil {
		fmt.Fprintf(b, "Universal Scalability Law: no fit (%s).\n", r.FitError)
		return
	}
	u := r.USL
	fmt.Fprintf(b, "Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)):\n  σ = %.4g, κ = %.4g, λ = %.1f/s, R² = %.3f, steps within %.1f%% of the curve (RMS);\n  ", u.Sigma, u.Kappa, u.Lambda, u.R2, 100*u.RelRMSE)
	if u.PeakConcurrency != nil {
		fmt.Fprintf(b, "peak concurrency N* = sqrt((1−σ)/κ) = %.1f\n", *u.PeakConcurrency)
	} else {
		fmt.Fprintf(b, "N* = none (%s)\n", u.PeakNote)
	}
	b.WriteString("  concurrency    measured      fitted    diff\n")
	for _, c := range r.Curve {
		d := 0.0
		if c.Fitted > 0 {
			d = 100 * (c.Measured - c.Fitted) / c.Fitted
		}
		fmt.Fprintf(b, "  %11d  %10.1f  %10.1f  %+5.1f%%\n", c.Concurrency, c.Measured, c.Fitted, d)
	}
}
