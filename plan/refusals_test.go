package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// lineOfText is the 1-based line of the first line of text containing s.
func lineOfText(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no line contains %q", s)
	return 0
}

// parseEdited replaces from with to in the seed plan and parses it.
func parseEdited(t *testing.T, from, to string) (string, *Plan, error) {
	t.Helper()
	seed := string(seedPlan(t))
	if !strings.Contains(seed, from) {
		t.Fatalf("the seed plan has no %q", from)
	}
	text := strings.Replace(seed, from, to, 1)
	p, err := Parse([]byte(text))
	return text, p, err
}

// Each of these was accepted before: an explicit zero was silently
// replaced by the default, a second document ignored, a list given for a
// duration reported as "does not implemented Unmarshaler" with no field,
// and the new fields were not checked.
func TestRefusedWithFieldAndLine(t *testing.T) {
	cases := []struct {
		name, from, to string
		field          string // the field the error names
		atLine         string // the error's line holds this text
		want           string
	}{
		{"explicit zero batch size", "batch_size: 1 ", "batch_size: 0 ", "rollout.batch_size", "batch_size: 0", "at least 1"},
		{"explicit zero baseline", "  duration: 1m ", "  duration: 0s ", "baseline.duration", "duration: 0s", "positive"},
		{"explicit zero interval", "interval: 1s", "interval: 0s", "evaluation.interval", "interval: 0s", "at least 10ms"},
		{"explicit zero verify timeout", "verify_timeout: 60s", "verify_timeout: 0s", "rollout.verify_timeout", "verify_timeout: 0s", "positive"},
		{"explicit zero backup age", "max_age: 24h", "max_age: 0s", "backup.max_age", "max_age: 0s", "positive"},
		{"explicit zero max inconclusive", "max_inconclusive: 1m", "max_inconclusive: 0s", "evaluation.max_inconclusive", "max_inconclusive: 0s", "positive"},
		{"explicit zero coverage", "min_coverage: 0.9", "min_coverage: 0", "evaluation.min_coverage", "min_coverage: 0", "more than 0"},
		{"coverage above one", "min_coverage: 0.9", "min_coverage: 1.5", "evaluation.min_coverage", "min_coverage: 1.5", "at most 1"},
		{"coverage negative", "min_coverage: 0.9", "min_coverage: -0.1", "evaluation.min_coverage", "min_coverage: -0.1", "more than 0"},
		{"coverage as text", "min_coverage: 0.9", "min_coverage: most", "evaluation.min_coverage", "min_coverage: most", "must be a number"},
		{"negative rollback monitor", "monitor: 15m", "monitor: -1m", "rollback.monitor", "monitor: -1m", "negative"},
		{"negative processes", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n    processes: -2\n", "instances[0].processes", "processes: -2", "at least 1"},
		{"explicit zero processes", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n    processes: 0\n", "instances[0].processes", "processes: 0", "0: want 1–1000"},
		{"too many processes", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n    processes: 1001\n", "instances[0].processes", "processes: 1001", "1001: want 1–1000"},
		{"list for a duration", "duration: 1h", "duration: [1,2]", "soak.duration", "duration: [1,2]", "must be a duration such as 30s or 5m, not a list"},
		{"mapping for a number", "batch_size: 1 ", "batch_size: {n: 1} ", "rollout.batch_size", "batch_size: {n: 1}", "must be a whole number, not a mapping"},
		{"scalar for a list", "checklist:\n", "checklist: everything\nchecklist_was:\n", "checklist", "checklist: everything", "must be a list"},
		{"second document", "evidence:\n  dir: launch/evidence", "evidence:\n  dir: launch/evidence\n---\nversion: 1\nname: other", "", "---", "second YAML document"},
		{"prometheus ftp url", "evidence:\n", "prometheus:\n  url: ftp://prom:9090\nevidence:\n", "prometheus.url", "url: ftp://prom:9090", "http(s) URL"},
		{"prometheus bad env name", "evidence:\n", "prometheus:\n  url: https://prom:9090\n  bearer_token_env: PROM-TOKEN\nevidence:\n", "prometheus.bearer_token_env", "bearer_token_env: PROM-TOKEN", "not an environment variable name"},
		{"prometheus half basic auth", "evidence:\n", "prometheus:\n  url: https://prom:9090\n  username_env: PROM_USER\nevidence:\n", "prometheus.username_env", "username_env: PROM_USER", "needs password_env"},
		{"prometheus bad header", "evidence:\n", "prometheus:\n  url: https://prom:9090\n  headers_env: {\"X Tenant\": PROM_TENANT}\nevidence:\n", "prometheus.headers_env.X Tenant", `headers_env: {"X Tenant"`, "not an HTTP header name"},
		{"prometheus header env name", "evidence:\n", "prometheus:\n  url: https://prom:9090\n  headers_env: {X-Scope-OrgID: prom tenant}\nevidence:\n", "prometheus.headers_env.X-Scope-OrgID", "headers_env: {X-Scope-OrgID: prom", "not an environment variable name"},
		{"prometheus ca for http", "evidence:\n", "prometheus:\n  url: http://prom:9090\n  ca_file: ca.pem\nevidence:\n", "prometheus.ca_file", "ca_file: ca.pem", "https"},
		{"prometheus secret in url", "evidence:\n", "prometheus:\n  url: https://u:hunter2@prom:9090\nevidence:\n", "prometheus.url", "url: https://u:", "must not hold credentials"},
		{"optional not a bool", `{name: pool_max, role: success,`, `{name: pool_max, optional: maybe, role: success,`, "criteria[0].optional", "optional: maybe", "true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, p, err := parseEdited(t, tc.from, tc.to)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("accepted (%v), plan %v", err, p != nil)
			}
			line := lineOfText(t, text, tc.atLine)
			if tc.name == "second document" {
				line = strings.Count(text[:strings.Index(text, "\n---\n")+1], "\n") + 1
			}
			prefix := fmt.Sprintf("line %d: %s", line, tc.field)
			if tc.field == "" {
				prefix = fmt.Sprintf("line %d: ", line)
			}
			found := false
			for _, fe := range pe.Errors {
				if strings.HasPrefix(fe.Error(), prefix) && strings.Contains(fe.Msg, tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem %q…%q in\n%v", prefix, tc.want, err)
			}
			for _, bad := range []string{"Unmarshaler", "hunter2", "interface {}"} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("error shows %q: %v", bad, err)
				}
			}
		})
	}
}

// Absent fields still get their defaults; the defaults that depend on the
// soak follow it.
func TestDefaultsForAbsentFields(t *testing.T) {
	seed := string(seedPlan(t))
	for _, drop := range []string{"  batch_size: 1 ", "  interval: 1s", "  max_inconclusive: ", "  min_coverage: ", "  verify_timeout: ", "  max_age: ", "rollback:\n  monitor: "} {
		i := strings.Index(seed, drop)
		if i < 0 {
			t.Fatalf("seed has no %q", drop)
		}
		j := i + len(drop) + strings.Index(seed[i+len(drop):], "\n") + 1
		seed = seed[:i] + seed[j:]
	}
	for _, tc := range []struct {
		soak, maxInc, monitor time.Duration
	}{
		{time.Hour, time.Minute, 15 * time.Minute},
		{60 * time.Second, 6 * time.Second, 60 * time.Second},
		{20 * time.Minute, time.Minute, 15 * time.Minute},
	} {
		text := strings.Replace(seed, "  duration: 1h", "  duration: "+tc.soak.String(), 1)
		p, err := Parse([]byte(text))
		if err != nil {
			t.Fatalf("soak %s: %v", tc.soak, err)
		}
		if p.Rollout.BatchSize != 1 || p.Evaluation.Interval.D() != time.Second || p.Rollout.VerifyTimeout.D() != DefaultVerifyTimeout ||
			p.Backup.MaxAge.D() != DefaultBackupMaxAge || p.Evaluation.MinCoverage != 0.9 || p.Instances[0].Processes != 1 {
			t.Errorf("soak %s: defaults %+v %+v %+v", tc.soak, p.Rollout, p.Evaluation, p.Instances[0])
		}
		if p.Evaluation.MaxInconclusive.D() != tc.maxInc || p.RollbackMonitor() != tc.monitor {
			t.Errorf("soak %s: max_inconclusive %s rollback monitor %s, want %s and %s", tc.soak, p.Evaluation.MaxInconclusive, p.RollbackMonitor(), tc.maxInc, tc.monitor)
		}
	}
}

// rollback.monitor: 0s turns the monitoring off and stays off through the
// normalised form (the plan's identity).
func TestRollbackMonitorOffSurvivesNormalising(t *testing.T) {
	_, p, err := parseEdited(t, "monitor: 15m", "monitor: 0s")
	if err != nil {
		t.Fatal(err)
	}
	if p.RollbackMonitor() != 0 {
		t.Fatalf("monitor %s, want 0 (off)", p.RollbackMonitor())
	}
	p2, err := Parse(p.YAML())
	if err != nil {
		t.Fatal(err)
	}
	if p2.RollbackMonitor() != 0 || p2.SHA256() != p.SHA256() {
		t.Errorf("normalised: monitor %s, sha equal %v", p2.RollbackMonitor(), p2.SHA256() == p.SHA256())
	}
	_, on, _ := parseEdited(t, "monitor: 15m", "monitor: 5m")
	if on.RollbackMonitor() != 5*time.Minute || on.SHA256() == p.SHA256() {
		t.Errorf("monitor 5m: %s", on.RollbackMonitor())
	}
	if (&Plan{Soak: Soak{Duration: 90e9}}).RollbackMonitor() != 90*time.Second {
		t.Error("a plan built in code does not get the capped default")
	}
}

func TestNewFieldsAccepted(t *testing.T) {
	_, p, err := parseEdited(t, "evidence:\n", `prometheus:
  url: https://prom.example:9090
  bearer_token_env: PROM_TOKEN
  headers_env: {X-Scope-OrgID: PROM_TENANT}
  ca_file: certs/ca.pem
evidence:
`)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prometheus.URL != "https://prom.example:9090" || p.Prometheus.HeadersEnv["X-Scope-OrgID"] != "PROM_TENANT" || p.Prometheus.CAFile != "certs/ca.pem" {
		t.Errorf("prometheus %+v", p.Prometheus)
	}
	_, p, err = parseEdited(t, `{name: pool_max, role: success,`, `{name: pool_max, optional: true, role: success,`)
	if err != nil || !p.Criteria[0].Optional || p.Criteria[1].Optional {
		t.Errorf("optional: %v %+v", err, p.Criteria[:2])
	}
	_, p, err = parseEdited(t, "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n    processes: 4\n")
	if err != nil || p.Instances[0].Processes != 4 {
		t.Errorf("processes: %v", err)
	}
}

// Every problem is reported at once, each with its line, in file order:
// before, decoding stopped at the first.
func TestEveryProblemAtOnce(t *testing.T) {
	seed := string(seedPlan(t))
	text := strings.Replace(seed, "soak:\n", "soak:\n  speed: 3\n", 1)               // unknown key
	text = strings.Replace(text, "driver: admin", "driver: ssh", 1)                  // bad value
	text = strings.Replace(text, "  duration: 1h", "  duration: [1, 2]", 1)          // wrong type
	text = strings.Replace(text, "batch_size: 1 ", "batch_size: many ", 1)           // wrong type
	text = strings.Replace(text, "interval: 1s", "interval: 0s\n  intervall: 2s", 1) // explicit zero, unknown key
	_, err := Parse([]byte(text))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("accepted: %v", err)
	}
	want := []string{
		fmt.Sprintf("line %d: driver: \"ssh\" is not a driver", lineOfText(t, text, "driver: ssh")),
		fmt.Sprintf("line %d: rollout.batch_size: must be a whole number, not \"many\"", lineOfText(t, text, "batch_size: many")),
		fmt.Sprintf("line %d: soak.speed: unknown field", lineOfText(t, text, "speed: 3")),
		fmt.Sprintf("line %d: soak.duration: must be a duration", lineOfText(t, text, "duration: [1, 2]")),
		fmt.Sprintf("line %d: evaluation.interval: must be at least 10ms", lineOfText(t, text, "interval: 0s")),
		fmt.Sprintf("line %d: evaluation.intervall: unknown field (did you mean interval?)", lineOfText(t, text, "intervall: 2s")),
	}
	if len(pe.Errors) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(pe.Errors), len(want), err)
	}
	for i, w := range want {
		if i >= len(pe.Errors) || !strings.HasPrefix(pe.Errors[i].Error(), w) {
			t.Errorf("problem %d: want %q in\n%v", i, w, err)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string]string{
		"systemctl restart ledgerd":           "systemctl|restart|ledgerd",
		`sh -c 'kill -HUP $(cat /run/x.pid)'`: "sh|-c|kill -HUP $(cat /run/x.pid)",
		`a "b c" d\ e ''`:                     "a|b c|d e|",
		"  spaced\tout  ":                     "spaced|out",
	} {
		got, err := SplitCommand(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "   ", `sh -c 'open`, `trailing\`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
