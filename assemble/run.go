package assemble

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
)

// Run is a change run assembled from a plan and the environment: what
// runner.Run needs besides the operator's intent and the caller's hooks.
// Load builds it from a plan file; tests build it from a parsed plan.
type Run struct {
	Plan *plan.Plan
	// PlanYAML is the plan file as read, written as plan.yaml in the
	// evidence.
	PlanYAML []byte
	// PlanPath is the plan file as given on the command line, for the
	// commands a PAGE line asks to run ("PLAN" when empty).
	PlanPath string
	// PlanDir is <evidence dir>/<plan name>, where approvals and ticks live.
	PlanDir string
	// EvidenceDir is the folder under which run folders are created
	// (<EvidenceDir>/<plan name>/<run id>/).
	EvidenceDir string
	Getenv      func(string) string
	// Version is poolpilot's version, recorded in run_opened.
	Version string
	// Preflight runs the plan's preflight; nil runs Preflight (this
	// package's) over the plan and Getenv.
	Preflight func(ctx context.Context) preflight.Report
	// Driver replaces the driver the plan names (tests).
	Driver change.Driver

	built    change.Driver // the plan's driver, once BuildDriver made it
	buildErr error
	isBuilt  bool
}

// Load reads the plan file path and assembles its run. Run folders go
// under evidenceDir, or under the plan's evidence.dir (relative to the
// plan file) when it is ""; approvals and ticks are always read from the
// latter. A plan that cannot be read or is invalid is bad input (exit 2).
func Load(path, evidenceDir string, getenv func(string) string) (*Run, error) {
	p, err := plan.Load(path)
	if err != nil {
		return nil, &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, poolpilot.BadInput("%v", err)
	}
	raw = planAsRun(p, raw)
	planDir := change.PlanDir(p, filepath.Dir(path))
	base := filepath.Dir(planDir)
	if evidenceDir != "" { // run folders elsewhere; approvals and ticks stay with the plan
		base = evidenceDir
	}
	return &Run{Plan: p, PlanYAML: raw, PlanPath: path, PlanDir: planDir, EvidenceDir: base, Getenv: getenv}, nil
}

// RunPreflight runs the run's preflight (Run.Preflight, or Preflight over
// the plan).
func (r *Run) RunPreflight(ctx context.Context) preflight.Report {
	if r.Preflight != nil {
		return r.Preflight(ctx)
	}
	o := PreflightOptions{PlanDir: r.PlanDir}
	if r.Driver == nil { // a test's driver does not say what the plan's needs
		o.Driver, _ = r.BuildDriver()
	}
	return Preflight(ctx, r.Plan, r.Getenv, o)
}

// AutoStepsNote says where an auto staircase's steps came from ("" for
// any other plan).
func AutoStepsNote(p *plan.Plan) string {
	src, ok := p.AutoSteps()
	if !ok {
		return ""
	}
	steps := make([]string, len(p.Change.Steps))
	for i, s := range p.Change.Steps {
		steps[i] = fmt.Sprintf("%d:%d", s.Max, s.Min)
	}
	rec := "no recommendation"
	if src.Recommended > 0 {
		rec = fmt.Sprintf("recommended max %d", src.Recommended)
	}
	return fmt.Sprintf("change.steps {auto: true} from the sizing report %s (%s): %s", src.Report, rec, strings.Join(steps, " → "))
}

// planAsRun is the plan.yaml of the evidence: the plan file byte for
// byte, except for an auto staircase, whose sizing report is not in the
// folder: its normalised plan, with the steps listed (the same SHA-256).
func planAsRun(p *plan.Plan, raw []byte) []byte {
	note := AutoStepsNote(p)
	if note == "" {
		return raw
	}
	return append([]byte("# "+note+"\n# (the normalised plan: the plan file said {auto: true})\n"), p.YAML()...)
}
