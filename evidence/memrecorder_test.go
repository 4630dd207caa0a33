package evidence

import (
	"slices"
	"testing"
)

func TestMemRecorderKeepsEventsAndLastContents(t *testing.T) {
	var r MemRecorder
	buf := []byte("first\n")
	for _, step := range []func() error{
		func() error { return r.Record(RunOpened{}) },
		func() error { return r.WriteFile("deployment_log.txt", buf) },
		func() error { return r.Record(Rollback{Reason: "x"}) },
		func() error { return r.WriteFile("config_diff.txt", []byte("+DB_POOL_MAX=200\n")) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	copy(buf, "FIRST") // the caller reuses its buffer: the recorder kept a copy
	if got := r.File("deployment_log.txt"); got != "first\n" {
		t.Errorf("deployment_log.txt = %q, want the contents as written", got)
	}
	if err := r.WriteFile("deployment_log.txt", []byte("second\n")); err != nil {
		t.Fatal(err)
	}
	if got := r.File("deployment_log.txt"); got != "second\n" {
		t.Errorf("deployment_log.txt = %q, want the last write", got)
	}
	if got := r.File("never.txt"); got != "" {
		t.Errorf("an unwritten file reads %q", got)
	}
	if got, want := r.Events(), []string{"run_opened", "rollback"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
