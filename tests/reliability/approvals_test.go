package reliability

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
)

// TestApprovalsBoundToThePlan: an approval of plan A does not let plan B
// run; an edited approval line is refused; a replayed (duplicated) approval
// counts once; and nothing is changed on the instances by a refused run.
func TestApprovalsBoundToThePlan(t *testing.T) {
	f := newRunFixtureOn(t, pgtest.NewDatabase(t), 3*time.Second, nil)
	f.Approve()
	approvals := filepath.Join(f.PlanDir(), change.ApprovalsFile)
	orig, err := os.ReadFile(approvals)
	if err != nil {
		t.Fatal(err)
	}
	from := f.P.Change.From
	refused := func(what, planFile, want string) {
		t.Helper()
		out, stderr, code := f.cli(time.Minute, "run", planFile)
		if code != 4 || !strings.Contains(stderr+out, want) {
			t.Errorf("%s: exit %d, want 4 (refused) with %q\n%s\n%s", what, code, want, out, stderr)
		}
		if !f.AllAt(from) {
			t.Errorf("%s: a refused run changed the instances: %v", what, f.Sizes())
		}
	}
	// Plan B: same name and folder, another target size.
	b := *f.P
	b.Change.To = plan.PoolSize{Max: 50, Min: 5}
	bFile := filepath.Join(f.Dir, "plan-b.yaml")
	if err := os.WriteFile(bFile, b.YAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Tick(bFile)
	refused("approval of A used for B", bFile, "changed after approval")

	// An edited approval (the approver's name changed).
	var a change.Approval
	if err := json.Unmarshal(bytes.TrimSpace(orig), &a); err != nil {
		t.Fatalf("approvals.jsonl: %v", err)
	}
	edited := bytes.Replace(orig, []byte(`"by":"Jane Doe"`), []byte(`"by":"Mallory"`), 1)
	if bytes.Equal(edited, orig) {
		t.Fatalf("approval line has no by field: %s", orig)
	}
	writeFile(t, approvals, edited)
	refused("edited approval", f.PlanFile, "edited after it was recorded")

	// An approval whose plan hash was swapped to B's: edited too.
	bp, err := plan.Load(bFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, approvals, bytes.Replace(orig, []byte(a.PlanSHA256), []byte(bp.SHA256()), 1))
	refused("approval re-pointed at plan B", bFile, "edited after it was recorded")

	// Replayed: the same approval twice does not make two approvals.
	f.P.Approvals.Required = 2
	f.Write()
	writeFile(t, approvals, nil)
	f.Approve()
	one, _ := os.ReadFile(approvals)
	writeFile(t, approvals, append(append([]byte{}, one...), one...))
	refused("replayed approval", f.PlanFile, "needs 2 approval(s), has 1 valid")
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
