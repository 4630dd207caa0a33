package advisor

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestSVGIsWellFormedAndMarksTheRecommendation(t *testing.T) {
	r := &Report{Workload: "ledger <x>", Steps: stepsOf(USL{Sigma: 0.2, Kappa: 0.01, Lambda: 1000}, 32)}
	if err := r.Analyse(0); err != nil {
		t.Fatal(err)
	}
	svg := string(r.SVG())
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			break
		}
	}
	for _, want := range []string{"recommended max 6", "stroke-dasharray", "ledger &lt;x&gt;", ">32<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if empty := string((&Report{}).SVG()); !strings.Contains(empty, "no steps measured") {
		t.Errorf("empty chart: %s", empty)
	}
}
