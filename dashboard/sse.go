package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SSE messages: each has the id "<epoch>-<seq>". A client that reconnects
// with Last-Event-ID of the same epoch gets only what changed after seq;
// any other id gets everything (reset).
//
//	event: section   data: {"id":"criteria","html":"…"}   replace #sec-<id>
//	event: timeline  data: {"reset":false,"html":"<li>…"} prepend rows (newest first)
//	event: run       data: {"state":…,"terminal":…,"final":…,"now":…,"rollback_enabled":…}
const retryMS = 2000

type runMsg struct {
	State    string    `json:"state"`
	Terminal bool      `json:"terminal"`
	Final    bool      `json:"final"` // nothing more will change: close the stream
	Now      time.Time `json:"now"`
	Seq      uint64    `json:"seq"`
	Rollback bool      `json:"rollback_enabled"`
	Why      string    `json:"rollback_why,omitempty"`
}

func (h *Hub) handleEvents(w http.ResponseWriter, r *http.Request) {
	rn := h.find(w, r, true)
	if rn == nil {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeErr(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	last := lastEventID(r, rn.epoch)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", retryMS)
	fl.Flush()
	counted := rn.live
	if counted {
		h.pending.Add(1)
		defer func() {
			if counted {
				h.pending.Add(-1)
			}
		}()
	}
	hb := time.NewTicker(h.opts.Heartbeat)
	defer hb.Stop()
	// A folder run (another process's, in progress) is re-read when its
	// audit log changes; the new object has a new epoch: everything is
	// sent again.
	reread := time.NewTicker(2 * time.Second)
	defer reread.Stop()
	for {
		changed := rn.wait()
		sent, final, err := h.send(w, rn, last)
		if err != nil {
			return
		}
		fl.Flush()
		last = sent
		if final && counted {
			counted = false
			h.pending.Add(-1)
		}
		if final {
			// Nothing will change: keep the stream open (the client closes it)
			// so that a browser does not reconnect in a loop.
			changed = nil
		}
		select {
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		case <-changed:
		case <-reread.C:
			if !rn.live && !final {
				if nr, err := h.lookup(rn.id); err == nil && nr != rn {
					rn, last = nr, 0
				}
			}
			continue
		case <-hb.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// lastEventID is the seq a reconnecting client has seen (0: everything),
// from Last-Event-ID or ?last_event_id= (for a client that had to open a
// new EventSource).
func lastEventID(r *http.Request, epoch string) uint64 {
	id := r.Header.Get("Last-Event-ID")
	if id == "" {
		id = r.URL.Query().Get("last_event_id")
	}
	ep, seq, ok := strings.Cut(id, "-")
	if !ok || ep != epoch {
		return 0
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// send writes every section changed after last, new timeline rows and a
// run message; it returns the seq now sent.
func (h *Hub) send(w http.ResponseWriter, rn *run, last uint64) (uint64, bool, error) {
	rn.mu.Lock()
	seq := rn.seq
	if last > seq {
		last = 0 // an id from the future: resend everything
	}
	var secs []string
	for _, s := range sections {
		if rn.versions[s] > last {
			secs = append(secs, s)
		}
	}
	rn.mu.Unlock()
	if last == seq && last != 0 {
		return seq, h.final(rn), nil
	}
	v := h.viewOf(rn)
	pd := newPage(v, h.opts.Token != "")
	id := fmt.Sprintf("%s-%d", rn.epoch, v.Seq)
	for _, s := range secs {
		html, err := rn.section(s, pd)
		if err != nil {
			h.logf("%v", err)
			continue
		}
		if err := h.event(w, id, "section", map[string]string{"id": s, "html": html}); err != nil {
			return last, false, err
		}
	}
	if err := h.sendTimeline(w, id, pd, last); err != nil {
		return last, false, err
	}
	final := v.Terminal && (!v.Live || v.Verify != nil)
	msg := runMsg{State: v.State, Terminal: v.Terminal, Final: final, Now: v.Now, Seq: v.Seq, Rollback: v.Rollback.Enabled, Why: v.Rollback.Why}
	return v.Seq, final, h.event(w, id, "run", msg)
}

// section renders a section once per version for every stream.
func (r *run) section(name string, pd *pageData) (string, error) {
	r.mu.Lock()
	c, ok := r.cache[name]
	ver := r.versions[name]
	r.mu.Unlock()
	if ok && c.version == ver {
		return c.html, nil
	}
	html, err := render(name, pd)
	if err != nil {
		return "", err
	}
	if ver <= pd.V.Seq { // the view is at least as new as the version
		r.mu.Lock()
		r.cache[name] = rendered{version: ver, html: html}
		r.mu.Unlock()
	}
	return html, nil
}

func (h *Hub) final(rn *run) bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.terminal && (!rn.live || rn.verify != nil)
}

// sendTimeline sends the rows added after last (all of them, with reset,
// when last is 0).
func (h *Hub) sendTimeline(w http.ResponseWriter, id string, pd *pageData, last uint64) error {
	var rows []Entry
	for _, e := range pd.Entries {
		if e.hubSeq > last {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 && last != 0 {
		return nil
	}
	html, err := render("entries", &pageData{Entries: rows})
	if err != nil {
		return err
	}
	return h.event(w, id, "timeline", map[string]any{"reset": last == 0, "html": html})
}

// event writes one SSE message, redacted; data is one JSON line.
func (h *Hub) event(w http.ResponseWriter, id, name string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", id, name, h.red.Redact(string(b)))
	return err
}
