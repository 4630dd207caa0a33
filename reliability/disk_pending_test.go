//go:build pending

package reliability

// PENDING (package runner, not ours to edit): when the evidence disk fills
// up during a run, the runner only warns ("evidence file X not written: …
// no space left on device") and carries on to succeeded, so a production
// change is left in place without its evidence. Fix: treat a failed
// evidence write (Folder.Write/WriteJSON/Append error) as a rollback
// trigger — roll back to change.from, keep the journal, exit non-zero and
// say "evidence not written: no space left on device". Run with:
// go test -tags pending -run TestEvidenceDiskFullRollsBack ./reliability/

import "testing"

func TestEvidenceDiskFullRollsBack(t *testing.T) {
	r := diskFullRun(t)
	if r.code == 0 {
		t.Errorf("the run succeeded although its evidence could not be written")
	}
	if !r.f.allAt(r.f.p.Change.From) {
		t.Errorf("instances left at %v after a full evidence disk, want %v", r.f.sizes(), r.f.p.Change.From)
	}
}
