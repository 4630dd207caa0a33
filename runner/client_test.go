package runner

import (
	"errors"
	"testing"
	"time"
)

// An evaluation asks for four metrics of an instance in a row: the window
// is summarised once; a new request, or time passing, is seen at once.
func TestClientStatsCachedWithinAnEvaluation(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	v := newClientView(10 * time.Second)
	v.now = func() time.Time { return now }
	for i := range 10 {
		v.record("a:1", now, time.Duration(i+1)*time.Millisecond, nil)
	}
	st, ok := v.stats("a:1")
	if !ok || st.requests != 10 || st.errors != 0 || st.p95 != 10 {
		t.Fatalf("first: %+v ok=%v", st, ok)
	}
	// Four reads of the same instance at the same moment: one summary.
	v.mu.Lock()
	c := v.cache["a:1"]
	v.mu.Unlock()
	for range 3 {
		if again, _ := v.stats("a:1"); again != st {
			t.Fatalf("cached read %+v, want %+v", again, st)
		}
	}
	v.mu.Lock()
	if v.cache["a:1"] != c {
		t.Errorf("the cache entry was recomputed without a new request: %+v then %+v", c, v.cache["a:1"])
	}
	v.mu.Unlock()
	// A new request (a failure) is in the next read.
	v.record("a:1", now, 500*time.Millisecond, errors.New("connection refused"))
	st, _ = v.stats("a:1")
	if st.requests != 11 || st.errors != 1 || st.p99 != 500 {
		t.Errorf("after a failed request: %+v", st)
	}
	// Time passing past the window empties it, cache or not.
	now = now.Add(11 * time.Second)
	if st, ok := v.stats("a:1"); ok || st.requests != 0 {
		t.Errorf("after the window: %+v ok=%v", st, ok)
	}
}
