package plan

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func seedPlan(t *testing.T) []byte {
	t.Helper()
	b, err := Init(SeedInitOptions())
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return b
}

func TestInitWritesTheSeedPlan(t *testing.T) {
	p, err := Parse(seedPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Change.From != (PoolSize{10, 2}) || p.Change.To != (PoolSize{200, 20}) {
		t.Errorf("change = %+v", p.Change)
	}
	if p.Soak.Duration.D() != time.Hour || p.Window.Start != "02:00" || p.Window.End != "06:00" || p.Window.Timezone != "UTC" {
		t.Errorf("soak %s window %+v", p.Soak.Duration, p.Window)
	}
	if p.Evidence.Dir != "launch/evidence" || p.Name != "phase1_pool_scaling" {
		t.Errorf("evidence %q name %q", p.Evidence.Dir, p.Name)
	}
	var rollback, success int
	for _, c := range p.Criteria {
		switch c.Role {
		case "rollback":
			rollback++
			if c.Class != "P0" && c.For.D() != 5*time.Minute {
				t.Errorf("trigger %s: for = %s, want 5m", c.Name, c.For)
			}
		case "success":
			success++
		}
	}
	if success < 6 || rollback < 5 {
		t.Errorf("success %d rollback %d criteria", success, rollback)
	}
}

func TestSHA256IgnoresCommentsButNotMeaning(t *testing.T) {
	orig := seedPlan(t)
	p1, _ := Parse(orig)
	commented := append([]byte("# reviewed by ops\n"), bytes.ReplaceAll(orig, []byte("  batch_size: 1 "), []byte("  batch_size:   1 "))...)
	p2, err := Parse(commented)
	if err != nil {
		t.Fatal(err)
	}
	if p1.SHA256() != p2.SHA256() {
		t.Error("a comment changed the plan's SHA-256")
	}
	edited := bytes.Replace(orig, []byte("to: {max: 200, min: 20}"), []byte("to: {max: 201, min: 20}"), 1)
	p3, err := Parse(edited)
	if err != nil {
		t.Fatal(err)
	}
	if p3.SHA256() == p1.SHA256() {
		t.Error("changing change.to.max kept the SHA-256")
	}
	if len(p1.SHA256()) != 64 {
		t.Errorf("sha %q", p1.SHA256())
	}
}

func TestNormalisedYAMLRoundTrips(t *testing.T) {
	p1, _ := Parse(seedPlan(t))
	p2, err := Parse(p1.YAML())
	if err != nil {
		t.Fatalf("normalised YAML does not parse: %v\n%s", err, p1.YAML())
	}
	if p1.SHA256() != p2.SHA256() {
		t.Error("normalised YAML has another SHA-256")
	}
}

func TestBadPlans(t *testing.T) {
	seed := string(seedPlan(t))
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"unknown key", "soak:\n", "soak:\n  speed: 3\n", []string{"speed", "line"}},
		{"wrong type", "batch_size: 1 ", "batch_size: many ", []string{"line", "batch_size"}},
		{"min above max", "to: {max: 200, min: 20}", "to: {max: 200, min: 300}", []string{"change.to.min: (300) must not exceed max (200)", "line"}},
		{"max zero", "to: {max: 200, min: 20}", "to: {max: 0, min: 0}", []string{"change.to.max: must be between 1 and 10000 (got 0)"}},
		{"max absurd", "to: {max: 200, min: 20}", "to: {max: 50000, min: 20}", []string{"change.to.max"}},
		{"no change", "to: {max: 200, min: 20}", "to: {max: 10, min: 2}", []string{"nothing to change"}},
		{"bad driver", "driver: admin", "driver: ssh", []string{`driver: "ssh" is not a driver`}},
		{"bad window", `start: "02:00"`, `start: "2am"`, []string{"window.start", "HH:MM"}},
		{"bad zone", "timezone: UTC", "timezone: Mars/Olympus", []string{"window.timezone"}},
		{"bad version", "version: 1", "version: 7", []string{"version: must be 1"}},
		{"unitless duration", "duration: 1h", "duration: 3600", []string{"no unit"}},
		{"credentials in url", "http://127.0.0.1:8080/healthz", "http://admin:hunter2@127.0.0.1:8080/healthz", []string{"must not hold credentials"}},
		{"bad workload", "workload: ledger", "workload: chaos", []string{"load_test.workload"}},
		{"bad role", "role: success, expr: \"pool.max", "role: maybe, expr: \"pool.max", []string{`"maybe" must be success or rollback`}},
		{"bad class", "class: P0, expr: \"error_rate", "class: P7, expr: \"error_rate", []string{"P7"}},
		{"empty expr", `expr: "pool.min == 20"`, `expr: ""`, []string{"expr: is required"}},
		{"dup criterion", "name: pool_min,", "name: pool_max,", []string{`"pool_max" is listed twice`}},
		{"bad env var", "dsn_env: DATABASE_URL", "dsn_env: DATABASE-URL", []string{"not an environment variable name"}},
		{"backup skip without reason", "check: pg_stat_archiver", "check: skip", []string{"skip_reason"}},
		{"bad expr", `expr: "pool.min == 20"`, `expr: "pool.min =="`, []string{"criteria[1].expr"}},
		{"unknown metric", `expr: "pool.min == 20"`, `expr: "pool.minimum == 20"`, []string{"pool.minimum"}},
		{"zero soak", "duration: 1h", "duration: 0s", []string{"soak.duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(seed, tc.from) {
				t.Fatalf("fixture does not contain %q", tc.from)
			}
			_, err := Parse([]byte(strings.Replace(seed, tc.from, tc.to, 1)))
			if err == nil {
				t.Fatal("accepted")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *plan.Error", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %v", err)
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	seed := string(seedPlan(t))
	bad := strings.Replace(seed, "to: {max: 200, min: 20}", "to: {max: 200, min: 300}", 1)
	bad = strings.Replace(bad, "driver: admin", "driver: ssh", 1)
	_, err := Parse([]byte(bad))
	var pe *Error
	if !errors.As(err, &pe) || len(pe.Errors) < 2 {
		t.Fatalf("want 2+ problems, got %v", err)
	}
}

func TestLoadRefusesDirsAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("dir: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope.yaml")); err == nil {
		t.Error("missing file accepted")
	}
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "plan init") {
		t.Errorf("empty: %v", err)
	}
}

func TestParsePoolSize(t *testing.T) {
	if ps, err := ParsePoolSize("200:20"); err != nil || ps != (PoolSize{200, 20}) {
		t.Errorf("200:20 -> %v %v", ps, err)
	}
	for _, bad := range []string{"200", "a:b", "10:20", "0:0", "-1:0", "20000:1", ""} {
		if _, err := ParsePoolSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestInitRestartDriver(t *testing.T) {
	o := SeedInitOptions()
	o.Driver = DriverRestart
	o.HealthURLs = []string{"http://127.0.0.1:8081/healthz", "http://127.0.0.1:8082/healthz"}
	b, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Parse(b)
	if len(p.Instances) != 2 || p.Instances[1].EnvFile == "" || len(p.Instances[1].RestartCommand) == 0 {
		t.Errorf("instances %+v", p.Instances)
	}
}

func FuzzParse(f *testing.F) {
	seed, err := Init(SeedInitOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("version: 1\nname: x\n"))
	f.Add([]byte("{"))
	f.Add([]byte("instances: [{name: a, health_url: 'http://x'}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if p != nil {
				t.Fatal("plan returned with an error")
			}
			var pe *Error
			if !errors.As(err, &pe) || len(pe.Errors) == 0 {
				t.Fatalf("error %T %v is not a *plan.Error listing problems", err, err)
			}
			for _, fe := range pe.Errors {
				if fe.Msg == "" || fe.Path == "" {
					t.Fatalf("problem without a field or a message: %#v", fe)
				}
			}
			return
		}
		// A plan that parses must round-trip through its normalised form.
		p2, err := Parse(p.YAML())
		if err != nil {
			t.Fatalf("normalised form does not parse: %v", err)
		}
		if p2.SHA256() != p.SHA256() {
			t.Fatal("normalised form changes the SHA-256")
		}
	})
}

func TestInitWritesDurationsThatLoad(t *testing.T) {
	for _, d := range []time.Duration{30 * time.Second, 10 * time.Second, 90 * time.Second, 45 * time.Minute,
		2 * time.Hour, 1500 * time.Millisecond, 5 * time.Minute, time.Hour + 30*time.Minute} {
		o := SeedInitOptions()
		o.Soak, o.TriggerFor, o.LoadDuration, o.Baseline = d, d, d, d
		b, err := Init(o)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		p, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if p.Soak.Duration.D() != d || p.LoadTest.Duration.D() != d || p.Baseline.Duration.D() != d {
			t.Errorf("%s written as soak %s load %s baseline %s", d, p.Soak.Duration, p.LoadTest.Duration, p.Baseline.Duration)
		}
		for _, c := range p.Criteria {
			if c.Role == "rollback" && c.For != 0 && c.Name != "pool_saturation" && c.For.D() != d {
				t.Errorf("%s: trigger %s for %s", d, c.Name, c.For)
			}
		}
	}
}
