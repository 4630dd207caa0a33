package runner

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
)

func TestSuccessFailedRule(t *testing.T) {
	soak := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return soak.Add(time.Duration(s) * time.Second) }
	grace := 3 * time.Second
	cases := []struct {
		name string
		res  criteria.Result
		now  time.Time
		want bool
	}{
		{"ok", criteria.Result{State: criteria.StateOK}, at(30), false},
		{"inconclusive, not yet firing", criteria.Result{State: criteria.StateInconclusive, Since: at(0)}, at(30), false},
		{"for 0: one breach is within the grace", criteria.Result{State: criteria.StateFiring, Since: at(29)}, at(30), false},
		{"for 0: breached for the grace", criteria.Result{State: criteria.StateFiring, Since: at(27)}, at(30), true},
		{"for 10s: pending", criteria.Result{State: criteria.StatePending, ForS: 10, Since: at(25)}, at(30), false},
		{"for 10s: firing", criteria.Result{State: criteria.StateFiring, ForS: 10, Since: at(20)}, at(30), true},
		{"breach began in the load test: counted from the soak's start", criteria.Result{State: criteria.StateFiring, ForS: 10, Since: soak.Add(-time.Minute)}, at(5), false},
		{"breach began in the load test, held 10s into the soak", criteria.Result{State: criteria.StateFiring, ForS: 10, Since: soak.Add(-time.Minute)}, at(10), true},
		{"inconclusive beyond max_inconclusive", criteria.Result{State: criteria.StateFiring, Since: at(29), Reason: "inconclusive for 1m0s (max_inconclusive 1m0s): no data"}, at(30), true},
	}
	for _, c := range cases {
		if got, why := successFailed(c.res, soak, c.now, grace); got != c.want {
			t.Errorf("%s: failed = %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

func TestLockAndRequest(t *testing.T) {
	dir := t.TempDir() + "/run"
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	if r, err := takeRequest(dir); r != nil || err != nil {
		t.Fatalf("no request yet: %v %v", r, err)
	}
	if err := WriteRequest(dir, Request{By: "Jane", Reason: "alarms"}); err != nil {
		t.Fatal(err)
	}
	r, err := takeRequest(dir)
	if err != nil || r == nil || r.By != "Jane" || r.Reason != "alarms" {
		t.Fatalf("request %+v %v", r, err)
	}
	if r, _ := takeRequest(dir); r != nil {
		t.Fatal("a request is taken once")
	}
	l.Release()
	l2, err := TryLock(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
	if got := (ManualRollback{By: "Jane", Reason: "alarms"}).Error(); got != "manual rollback by Jane: alarms" {
		t.Errorf("%q", got)
	}
}

func TestSoakObservedFromTheJournal(t *testing.T) {
	note := func(reason, data string) change.Record {
		return change.Record{Kind: "note", Reason: reason, Data: json.RawMessage(data)}
	}
	cases := []struct {
		name string
		recs []change.Record
		want time.Duration
	}{
		{"never soaked", nil, 0},
		{"other notes only", []change.Record{note("baseline", `{"seconds":99}`), {Kind: "state", State: change.StateSoak}}, 0},
		{"the last note counts", []change.Record{note(soakObservedNote, `{"seconds":60}`), note(soakObservedNote, `{"seconds":120.5}`)}, 120500 * time.Millisecond},
		{"a torn note is ignored", []change.Record{note(soakObservedNote, `{"seconds":60}`), note(soakObservedNote, `{"sec`)}, time.Minute},
	}
	for _, c := range cases {
		if got := soakObserved(c.recs); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
