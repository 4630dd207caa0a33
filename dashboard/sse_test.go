package dashboard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

func sectionOf(m sseMsg) string {
	var d struct {
		ID   string `json:"id"`
		HTML string `json:"html"`
	}
	_ = json.Unmarshal([]byte(m.data), &d)
	return d.ID
}

func TestSSEDeliversChangesAndResumes(t *testing.T) {
	lf := newLive(t, Options{Token: testToken})
	url := lf.srv.URL + "/api/runs/" + lf.folder.RunID() + "/events"
	s := openSSE(t, url, "")
	first := s.until(t, "the first run message", func(m sseMsg) bool { return m.event == "run" })
	if !strings.HasPrefix(s.text(), "retry: 2000\n") {
		t.Errorf("no retry first: %.80q", s.text())
	}
	got := map[string]bool{}
	for _, m := range first {
		got[m.event+":"+sectionOf(m)] = true
		if !strings.HasPrefix(m.id, lf.live.run().epoch+"-") {
			t.Errorf("id %q lacks the epoch", m.id)
		}
	}
	for _, want := range []string{"section:head", "section:states", "section:criteria", "section:charts", "section:control", "timeline:"} {
		if !got[want] {
			t.Errorf("first burst lacks %s: %v", want, got)
		}
	}
	// A criterion turns pending: the criteria section comes with it.
	lf.eval(criteria.StatePending, 0.8, 9)
	msgs := s.until(t, "criteria with pending", func(m sseMsg) bool {
		return m.event == "section" && sectionOf(m) == "criteria" && strings.Contains(m.data, "fires in 9s")
	})
	lastID := msgs[len(msgs)-1].id
	s.until(t, "run after criteria", func(m sseMsg) bool { lastID = m.id; return m.event == "run" })
	s.close()

	// While disconnected: a state change (with its audit line) and an
	// evaluation. On reconnect with Last-Event-ID only those come back.
	lf.state(t, change.StatePreflight, change.StateAwaitingApproval, "waiting for alice")
	lf.eval(criteria.StateFiring, 0.95, 0)
	waitFor(t, lf.srv.URL+"/api/runs/"+lf.folder.RunID(), "audit line read", func(v View) bool {
		for _, e := range v.Timeline {
			if strings.Contains(e.Text, "waiting for alice") {
				return true
			}
		}
		return false
	})
	s2 := openSSE(t, url, lastID)
	msgs = s2.until(t, "resumed run message", func(m sseMsg) bool { return m.event == "run" })
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.event+":"+sectionOf(m)] = true
		if m.event == "timeline" && strings.Contains(m.data, `"reset":true`) {
			t.Error("resume reset the timeline")
		}
		if m.event == "timeline" && !strings.Contains(m.data, "waiting for alice") {
			t.Errorf("resumed timeline lacks the new row: %.200s", m.data)
		}
		if m.event == "timeline" && strings.Contains(m.data, "run_opened") {
			t.Error("resume resent rows the client had")
		}
	}
	if !seen["section:criteria"] || !seen["section:states"] || !seen["timeline:"] {
		t.Errorf("resume lacks changes: %v", seen)
	}
	s2.close()

	// An id of another epoch (a restarted dashboard) gets everything.
	s3 := openSSE(t, url, "deadbeef-3")
	msgs = s3.until(t, "full resend", func(m sseMsg) bool { return m.event == "run" })
	reset := false
	for _, m := range msgs {
		reset = reset || (m.event == "timeline" && strings.Contains(m.data, `"reset":true`))
	}
	if !reset {
		t.Error("an unknown id did not reset the timeline")
	}
}

func TestSSEFinishedRunSaysFinal(t *testing.T) {
	_, srv, _ := serveFixture(t, Options{})
	s := openSSE(t, srv.URL+"/api/runs/"+evidencetest.RunID+"/events", "")
	s.until(t, "final run message", func(m sseMsg) bool {
		return m.event == "run" && strings.Contains(m.data, `"final":true`) && strings.Contains(m.data, `"state":"rolled-back"`)
	})
}

func TestDrainWaitsForTheFinalMessage(t *testing.T) {
	lf := newLive(t, Options{Interval: time.Hour}) // no background read: Ended alone must finish the run
	s := openSSE(t, lf.srv.URL+"/api/runs/"+lf.folder.RunID()+"/events", "")
	s.until(t, "first burst", func(m sseMsg) bool { return m.event == "run" })
	if n := lf.hub.pending.Load(); n != 1 {
		t.Fatalf("pending streams %d, want 1", n)
	}
	if _, err := lf.folder.Close(); err != nil {
		t.Fatal(err)
	}
	lf.live.Ended(change.StateSucceeded, "", time.Now())
	start := time.Now()
	lf.hub.Drain(5 * time.Second)
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Drain took %v", d)
	}
	s.until(t, "final message", func(m sseMsg) bool {
		return m.event == "run" && strings.Contains(m.data, `"final":true`) && strings.Contains(m.data, `"state":"succeeded"`)
	})
	if lf.hub.pending.Load() != 0 {
		t.Error("the stream is still pending")
	}
}
