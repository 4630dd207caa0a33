package preflight

import (
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/plan"
)

func TestApproversCheck(t *testing.T) {
	withApprovers := plan.Approvals{Required: 2, Approvers: []plan.Approver{{Name: "Jane Doe", PublicKey: "k1"}, {Name: "Raj Patel", PublicKey: "k2"}}}
	for _, c := range []struct {
		name   string
		a      plan.Approvals
		status string
		want   string
	}{
		{"approvers listed", withApprovers, CheckPass, "2 approval(s) required from the listed approvers (Jane Doe; Raj Patel)"},
		{"no approvers", plan.Approvals{Required: 1}, CheckWarn, "approvals are not signed"},
		{"no approval required", plan.Approvals{}, CheckSkip, "requires no approval"},
	} {
		got := approversCheck(&plan.Plan{Approvals: c.a})
		if got.ID != "approvals_signed" || got.Status != c.status || !strings.Contains(got.Detail, c.want) {
			t.Errorf("%s: %+v, want %s containing %q", c.name, got, c.status, c.want)
		}
	}
}
