package chart

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)

func sample() Chart {
	var pts []Point
	for i := 0; i < 120; i++ {
		p := Point{T: t0.Add(time.Duration(i) * time.Second), V: 40 + 10*math.Sin(float64(i)/8)}
		if i == 60 {
			p.Missing = true
		}
		pts = append(pts, p)
	}
	return Chart{
		Title: "Latency p95 <fleet>", Unit: " ms",
		Series:     []Series{{Name: "p95", Points: pts}},
		Thresholds: []Threshold{{Value: 55, Label: "success < 55 ms", Kind: KindSuccess}, {Value: 1000, Label: "rollback > 1000 ms", Kind: KindRollback}},
		Marks:      []Mark{{T: t0.Add(30 * time.Second), Label: "apply", Kind: MarkApply}, {T: t0.Add(90 * time.Second), Label: "rollback", Kind: MarkRollback}},
	}
}

func TestGolden(t *testing.T) {
	got := sample().SVG()
	path := filepath.Join("testdata", "latency.svg")
	if *update {
		os.MkdirAll("testdata", 0o755)
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

func TestWellFormedAndFeatures(t *testing.T) {
	svg := string(sample().SVG())
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
	for _, want := range []string{
		`Latency p95 &lt;fleet&gt;`,          // escaped title
		`success &lt; 55 ms`,                 // threshold in range is drawn
		`↑ off scale: rollback &gt; 1000 ms`, // far threshold listed, not drawn
		`>apply</text>`, `>rollback</text>`,  // marks
		`xmlns="http://www.w3.org/2000/svg"`,
		`>02:00:00<`, `>02:00:30<`, `>02:01:30<`, // round time ticks
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	path := svg[strings.Index(svg, `<path d="`)+9:]
	path = path[:strings.Index(path, `"`)]
	if strings.Count(path, "M") != 2 {
		t.Errorf("path has %d sub-paths, want 2 (one gap): %.80s", strings.Count(path, "M"), path)
	}
	if strings.Contains(svg, "http://") && strings.Count(svg, "http://") != 1 {
		t.Errorf("SVG references something external")
	}
}

func TestNoData(t *testing.T) {
	c := Chart{Title: "Wait p95", Series: []Series{{Name: "x", Points: []Point{{T: t0, Missing: true}}}}}
	if svg := string(c.SVG()); !strings.Contains(svg, "no data") {
		t.Fatalf("no-data chart: %s", svg)
	}
	if svg := string((Chart{Title: "empty"}).SVG()); !strings.Contains(svg, "no data") {
		t.Fatalf("empty chart: %s", svg)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0.7: 0.8, 1.004: 1.2, 1.2: 1.2, 2.2: 2.5, 3.1: 4, 48: 50, 51: 60, 0.0011: 0.0012, 1080: 1200} {
		if got := niceCeil(in); math.Abs(got-want) > 1e-12 {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestTimeStep(t *testing.T) {
	for span, want := range map[time.Duration]time.Duration{5 * time.Second: time.Second, 119 * time.Second: 30 * time.Second,
		time.Hour: 10 * time.Minute, 75 * time.Minute: 15 * time.Minute} {
		if got := timeStep(span); got != want {
			t.Errorf("timeStep(%v) = %v, want %v", span, got, want)
		}
	}
}
