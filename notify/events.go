package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// EventSchema names the version of the event payload.
const EventSchema = "poolpilot.event/1"

// Event is the machine-readable payload of one audit event: Kind is the
// audit event kind (run_opened, state_change, criterion_fired, incident,
// rollback, …) and Data its audit data, as written (and redacted) in the
// run's audit.jsonl; Seq and Hash identify the audit line, so a consumer
// can drop a duplicate and check it against the evidence folder.
type Event struct {
	Schema string          `json:"schema"`
	Kind   string          `json:"kind"`
	RunID  string          `json:"run_id"`
	Plan   string          `json:"plan"`
	Time   time.Time       `json:"time"`
	Seq    uint64          `json:"seq"`
	Actor  string          `json:"actor,omitempty"`
	Hash   string          `json:"hash,omitempty"`
	Data   json.RawMessage `json:"data"`
}

// EventSink posts each Event as one JSON body to URL, in order, from its
// own goroutine: Publish never blocks the caller (it is called while the
// audit log is locked). Close delivers what is queued.
type EventSink struct {
	url     string
	name    string
	client  *http.Client
	onError func(error)

	mu      sync.Mutex
	queue   []Event
	wake    chan struct{}
	closed  bool
	sent    int
	failed  int
	drained chan struct{}
}

// NewEventSink starts a sink posting to url (a secret); name says where
// the URL came from, for errors; onError (may be nil) hears every failed
// delivery, from the sink's goroutine, with an error that never holds the
// URL. A delivery is tried once: the evidence folder, not the sink, is the
// record.
func NewEventSink(url, name string, client *http.Client, onError func(error)) *EventSink {
	s := &EventSink{url: url, name: name, client: client, onError: onError,
		wake: make(chan struct{}, 1), drained: make(chan struct{})}
	go s.loop()
	return s
}

// Publish queues ev; after Close it is dropped.
func (s *EventSink) Publish(ev Event) {
	if ev.Schema == "" {
		ev.Schema = EventSchema
	}
	if ev.Data == nil {
		ev.Data = json.RawMessage("{}")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *EventSink) loop() {
	defer close(s.drained)
	for {
		s.mu.Lock()
		batch, closed := s.queue, s.closed
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range batch {
			s.deliver(ev)
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			<-s.wake
		}
	}
}

func (s *EventSink) deliver(ev Event) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	err := postJSON(ctx, s.client, s.url, s.name, ev)
	s.mu.Lock()
	if err != nil {
		s.failed++
	} else {
		s.sent++
	}
	s.mu.Unlock()
	if err != nil && s.onError != nil {
		s.onError(err)
	}
}

// Close stops accepting events and waits until the queued ones are
// delivered or ctx ends; it returns how many were delivered, how many
// failed and how many were still queued.
func (s *EventSink) Close(ctx context.Context) (sent, failed, pending int) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case <-s.drained:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, s.failed, len(s.queue)
}
