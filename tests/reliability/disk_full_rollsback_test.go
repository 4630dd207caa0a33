package reliability

// When the evidence disk fills up during a run, the change must not stand
// without its evidence: before apply the run is refused, after it the run
// rolls back (the controller's guard on failed evidence writes).

import "testing"

func TestEvidenceDiskFullRollsBack(t *testing.T) {
	r := diskFullRun(t)
	if r.code == 0 {
		t.Errorf("the run succeeded although its evidence could not be written")
	}
	if !r.f.AllAt(r.f.P.Change.From) {
		t.Errorf("instances left at %v after a full evidence disk, want %v", r.f.Sizes(), r.f.P.Change.From)
	}
}
