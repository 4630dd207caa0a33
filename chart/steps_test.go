package chart

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }

func stairs() Steps {
	return Steps{Title: "Steps <staircase>", Settled: 1, Steps: []StairStep{
		{Label: "20:10", Throughput: f64(30), P95MS: f64(12), Verdict: VerdictPass},
		{Label: "50:10", Throughput: f64(31.5), P95MS: f64(11), Verdict: VerdictPass},
		{Label: "100:10", Throughput: f64(29), P95MS: f64(320), Verdict: VerdictWorse},
	}}
}

func TestStepsGolden(t *testing.T) {
	got := stairs().SVG()
	path := filepath.Join("testdata", "steps.svg")
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("SVG differs from %s (go test ./chart -update rewrites it)", path)
	}
}

func TestStepsFeatures(t *testing.T) {
	svg := string(stairs().SVG())
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
	}
	for _, want := range []string{"Steps &lt;staircase&gt;", ">20:10<", ">100:10<", `class="verdict-worse"`, `fill="#d97706"`, "settled here", "50:10: 31.5/s", "100:10: p95 320 ms"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the steps chart lacks %q", want)
		}
	}
	if n := strings.Count(svg, "<circle"); n != 3 {
		t.Errorf("%d p95 points, want 3", n)
	}
	// A step without figures draws no bar and no point, and no settle
	// outline when the run did not settle.
	c := Steps{Title: "x", Settled: -1, Steps: []StairStep{{Label: "20:10", Verdict: VerdictFail}}}
	if svg := string(c.SVG()); strings.Contains(svg, "<circle") || strings.Contains(svg, "settled here") || !strings.Contains(svg, "verdict-fail") {
		t.Errorf("a failed step without figures: %s", svg)
	}
	if svg := string((Steps{Title: "none"}).SVG()); !strings.Contains(svg, "no steps") {
		t.Error("an empty staircase does not say so")
	}
}
