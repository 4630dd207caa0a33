package plan

import (
	"strconv"
	"strings"
	"testing"
)

func kubePlan(t *testing.T) string {
	t.Helper()
	o := SeedInitOptions()
	o.Driver = DriverKube
	b, err := Init(o)
	if err != nil {
		t.Fatalf("Init with driver kube: %v", err)
	}
	return string(b)
}

func TestKubePlanValidates(t *testing.T) {
	src := strings.Replace(kubePlan(t), "kube://default/instance-1", "kube://prod/ledgerd/app", 1)
	src = strings.Replace(src, "# kubeconfig: ~/.kube/prod", "kubeconfig: /etc/poolpilot/kubeconfig", 1)
	src = strings.Replace(src, "# rollout_timeout: 10m", "rollout_timeout: 15m", 1)
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Driver != DriverKube || p.Instances[0].Kube != "kube://prod/ledgerd/app" || p.Kubeconfig != "/etc/poolpilot/kubeconfig" {
		t.Errorf("driver %q kube %q kubeconfig %q", p.Driver, p.Instances[0].Kube, p.Kubeconfig)
	}
	if p.Rollout.RolloutTimeout.String() != "15m0s" {
		t.Errorf("rollout_timeout %s", p.Rollout.RolloutTimeout)
	}
}

// A plan without the new fields keeps its SHA-256 (approvals stay bound).
func TestNewFieldsLeaveOldPlansHashAlone(t *testing.T) {
	p, _ := Parse(seedPlan(t))
	for _, k := range []string{"kube", "kubeconfig", "rollout_timeout", "pooler", "sizing_report", "pgbouncer"} {
		if strings.Contains(string(p.Normalised()), k) {
			t.Errorf("normalised seed plan mentions %q", k)
		}
	}
}

func TestBadKubeAndPoolerFields(t *testing.T) {
	kube := kubePlan(t)
	seed := string(seedPlan(t))
	cases := []struct {
		name, src, from, to string
		want                []string
	}{
		{"bad target", kube, "kube://default/instance-1", "kube://prod/Ledgerd", []string{"instances[0].kube", `deployment "Ledgerd" is not a DNS name`}},
		{"http target", kube, "kube://default/instance-1", "http://prod/ledgerd", []string{"instances[0].kube", "want kube://namespace/deployment"}},
		{"no target", kube, "    kube: kube://default/instance-1", "", []string{"instances[0].kube: is required by the kube driver"}},
		{"kube on admin", seed, "    # kube: kube://prod/ledgerd/app", "    kube: kube://prod/ledgerd/app", []string{"instances[0].kube: is only for driver kube"}},
		{"kubeconfig on admin", seed, "# kubeconfig: ~/.kube/prod", "kubeconfig: x", []string{"kubeconfig: is only for driver kube"}},
		{"rollout timeout on admin", seed, "# rollout_timeout: 10m", "rollout_timeout: 10m", []string{"rollout.rollout_timeout: is only for driver kube"}},
		{"bad admin env", seed, "# pgbouncer_admin_dsn_env: PGBOUNCER_ADMIN_URL", "pgbouncer_admin_dsn_env: PGBOUNCER-URL", []string{"database.pgbouncer_admin_dsn_env", "not an environment variable name"}},
		{"negative pooler max", seed, "# pooler_max_clients: 10000", "pooler_max_clients: -1", []string{"database.pooler_max_clients: must not be negative"}},
		{"database without console", seed, "# pgbouncer_database: ledger", "pgbouncer_database: ledger", []string{"database.pgbouncer_database: needs database.pgbouncer_admin_dsn_env"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.src, tc.from) {
				t.Fatalf("fixture does not contain %q", tc.from)
			}
			_, err := Parse([]byte(strings.Replace(tc.src, tc.from, tc.to, 1)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.name == "bad target" {
				line := strings.Count(kube[:strings.Index(kube, "kube://default/instance-1")], "\n") + 1
				if !strings.Contains(err.Error(), "line "+strconv.Itoa(line)+": instances[0].kube") {
					t.Errorf("error %q does not name line %d", err, line)
				}
			}
		})
	}
}
