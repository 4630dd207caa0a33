package integrity

import (
	"context"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// TestLedgerdIntegrity probes a real ledgerd, then breaks its ledger with
// an unbalanced entry written behind its back.
func TestLedgerdIntegrity(t *testing.T) {
	ctx := context.Background()
	ld := ledgerdtest.Start(t, ledgerdtest.Options{})
	src, err := New([]string{ld.URL + "/v1/integrity", ld.URL + "/nope"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := src.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ss[0].Gap || ss[0].Value != 1 || ss[0].Instance != ld.Addr {
		t.Fatalf("healthy ledger: %+v", ss[0])
	}
	if !ss[1].Gap || !strings.Contains(ss[1].Reason, `no boolean "ok"`) || ss[1].Instance != ld.URL+"/nope" {
		t.Fatalf("a 404: %+v", ss[1])
	}
	_, err = ld.Server.Pool().Exec(ctx, `
WITH t AS (INSERT INTO ledger.tenants (name) VALUES ('broken') RETURNING id),
     a AS (INSERT INTO ledger.accounts (tenant_id, name) SELECT id, 'cash' FROM t RETURNING id, tenant_id),
     e AS (INSERT INTO ledger.entries (tenant_id, description) SELECT id, 'unbalanced' FROM t RETURNING id, tenant_id)
INSERT INTO ledger.entry_lines (entry_id, line_no, tenant_id, account_id, amount)
SELECT e.id, 1, e.tenant_id, a.id, 500 FROM e, a`)
	if err != nil {
		t.Fatal(err)
	}
	ss, _ = src.Collect(ctx)
	if ss[0].Gap || ss[0].Value != 0 {
		t.Fatalf("unbalanced ledger: %+v, want integrity_ok 0", ss[0])
	}
}
