package ledgerdtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/ledger"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func healthy(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}

func TestInProcess(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "harness-token", Env: map[string]string{"DB_POOL_MAX": "3"}})
	healthy(t, ld.URL)
	if ld.Server == nil || ld.Server.Pool().Config().Max != 3 || ld.DatabaseURL == "" {
		t.Fatalf("instance %+v", ld)
	}
	ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 1})
	if st := ld.Server.Faults().Status(); st.ErrorRate != 1 {
		t.Fatalf("faults %+v", st)
	}
	if err := ld.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ld.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestProcess(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{Process: true})
	healthy(t, ld.URL)
	if err := ld.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, ld.Logs())
	}
	if code, err := ld.Wait(0); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if !strings.Contains(ld.Logs(), "listening addr=") {
		t.Fatalf("logs lack the address line:\n%s", ld.Logs())
	}
}
