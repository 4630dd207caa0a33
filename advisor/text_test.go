package advisor

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/pgpool"
)

func TestWriteTextAndSaveLoad(t *testing.T) {
	r := &Report{Schema: Schema, Workload: "select1", Target: "postgres://u@h/db", Rounds: 3,
		Steps: stepsOf(USL{Sigma: 0.2, Kappa: 0.01, Lambda: 1000}, 32), Stopped: StopLadder}
	if err := r.Analyse(0); err != nil {
		t.Fatal(err)
	}
	l := pgpool.ServerLimits{MaxConnections: 100, SuperuserReserved: 3, OtherConnections: 5}
	b := FleetBudget(l, false, Fleet{Instances: 4, Surge: 1}, r.Recommended.Max,
		&PlanBudget{Max: 200, Instances: 4, Surge: 1, Warning: Check(200, r.Recommended)})
	r.Budget = &b
	var sb strings.Builder
	if err := r.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	text := sb.String()
	for _, want := range []string{StepHeader, "median of 3 rounds", "N* = sqrt((1−σ)/κ) = 8.9", "Recommended per instance: max 6, min 2 (method usl).",
		"(4 instances + 1 surge) × max 6 = 30 connections fits", "do NOT fit", "WARNING: the plan's max 200 is 33.3× the measured recommendation 6"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	path := filepath.Join(t.TempDir(), "size.json")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadReport(path)
	if err != nil || !reflect.DeepEqual(back.Recommended, r.Recommended) || *back.USL.PeakConcurrency != *r.USL.PeakConcurrency {
		t.Errorf("load: %v %+v", err, back)
	}
	if _, err := LoadReport(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing report loaded")
	}
}
