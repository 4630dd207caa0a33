package advisor

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/poolpilot/poolpilot/plan"
)

// Schema names the JSON form of a Report.
const Schema = plan.SizingReportSchema

// Report is the result of `poolpilot size`: its JSON form (--json, --save)
// is the stable schema documented in docs/sizing.md.
type Report struct {
	Schema        string  `json:"schema"`
	Workload      string  `json:"workload"`
	Target        string  `json:"target"` // redacted DSN
	ServerVersion string  `json:"server_version,omitempty"`
	StartedAt     string  `json:"started_at"`
	WarmupS       float64 `json:"warmup_s"`
	StepDurationS float64 `json:"step_duration_s"`
	Rounds        int     `json:"rounds"` // measurements per step (medians)
	// Clients is the closed-loop load's concurrency of size --http (the
	// same at every step, while the service's pool max is swept); 0: the
	// load's concurrency is the step's pool size.
	Clients       int            `json:"clients,omitempty"`
	Steps         []Step         `json:"steps"`
	Stopped       string         `json:"stopped"`
	StoppedDetail string         `json:"stopped_detail,omitempty"`
	Interrupted   bool           `json:"interrupted"`
	USL           *USLReport     `json:"usl"` // null when no fit was possible
	FitError      string         `json:"fit_error,omitempty"`
	Curve         []CurvePoint   `json:"curve"`
	Recommended   Recommendation `json:"recommended"`
	Budget        *Budget        `json:"budget"` // null when the limits could not be read
	Notes         []string       `json:"notes,omitempty"`
}

// USLReport is the fit in the JSON report. PeakConcurrency is null when κ
// is 0 (no finite peak); PeakNote then says so.
type USLReport struct {
	Sigma           float64  `json:"sigma"`
	Kappa           float64  `json:"kappa"`
	Lambda          float64  `json:"lambda"`
	R2              float64  `json:"r2"`
	RelRMSE         float64  `json:"rel_rmse"`
	PeakConcurrency *float64 `json:"peak_concurrency"`
	PeakNote        string   `json:"peak_note,omitempty"`
}

// CurvePoint compares a measured step with the fit.
type CurvePoint struct {
	Concurrency int     `json:"concurrency"`
	Measured    float64 `json:"measured"`
	Fitted      float64 `json:"fitted"`
}

// Fit returns the fit as a USL, or nil.
func (r *Report) Fit() *USL {
	if r.USL == nil {
		return nil
	}
	return &USL{Sigma: r.USL.Sigma, Kappa: r.USL.Kappa, Lambda: r.USL.Lambda, R2: r.USL.R2, RelRMSE: r.USL.RelRMSE}
}

// Analyse fits the law to the steps (those with at most MaxStepErrorRate
// errors) and recommends; see Recommend. The returned error wraps
// ErrRefused when no recommendation was made.
func (r *Report) Analyse(p95Bound time.Duration) error {
	for i := range r.Steps {
		r.Steps[i].Excluded = r.Steps[i].ErrorRate() > MaxStepErrorRate
	}
	r.Curve = []CurvePoint{}
	fit, fitErr := FitSteps(r.Steps)
	var fp *USL
	if fitErr == nil {
		fp = &fit
		u := &USLReport{Sigma: fit.Sigma, Kappa: fit.Kappa, Lambda: fit.Lambda, R2: fit.R2, RelRMSE: fit.RelRMSE}
		if p := fit.Peak(); math.IsInf(p, 1) {
			u.PeakNote = "κ = 0: no finite peak; throughput levels off instead of falling"
			if fit.Sigma == 0 {
				u.PeakNote = "σ = κ = 0: linear scaling over the measured range, no peak"
			}
		} else {
			u.PeakConcurrency = &p
		}
		r.USL = u
		for _, s := range r.Steps {
			r.Curve = append(r.Curve, CurvePoint{Concurrency: s.Concurrency, Measured: s.Throughput, Fitted: fit.X(float64(s.Concurrency))})
		}
	} else {
		r.FitError = fitErr.Error()
	}
	rec, err := Recommend(r.Steps, fp, fitErr, p95Bound)
	if r.Interrupted {
		rec = Recommendation{Refused: true, Reason: fmt.Sprintf("the sweep was interrupted after %d steps: larger pools were not measured", len(r.Steps))}
		err = fmt.Errorf("%w: %s", ErrRefused, rec.Reason)
	}
	r.Recommended = rec
	return err
}

// FitSteps fits the law to the steps with at most MaxStepErrorRate errors
// and a positive throughput.
func FitSteps(steps []Step) (USL, error) {
	var pts []Point
	for _, s := range steps {
		if s.ErrorRate() <= MaxStepErrorRate && s.Throughput > 0 {
			pts = append(pts, Point{N: float64(s.Concurrency), X: s.Throughput})
		}
	}
	return FitUSL(pts)
}

// Save writes the report's JSON to path (0644), for preflight to read
// back with LoadReport.
func (r *Report) Save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save the sizing report: %w", err)
	}
	return nil
}

// LoadReport reads a report written by Save (or `poolpilot size --save`).
func LoadReport(path string) (*Report, error) {
	var r Report
	if err := plan.LoadSizingReport(path, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
