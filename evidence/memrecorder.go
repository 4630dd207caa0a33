package evidence

import "sync"

// MemRecorder keeps what the controller records: the audit events' names in
// order and each evidence file's last contents, for tests that read the
// evidence (deployment_log.txt, config_diff.txt …) without a folder.
// (sim.Recorder keeps only sizes, for simulations at scale.)
type MemRecorder struct {
	mu     sync.Mutex
	events []string
	files  map[string][]byte
}

// Record keeps the event's name.
func (r *MemRecorder) Record(ev Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev.EventName())
	return nil
}

// WriteFile keeps a copy of data as name's contents.
func (r *MemRecorder) WriteFile(name string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.files == nil {
		r.files = map[string][]byte{}
	}
	r.files[name] = append([]byte(nil), data...)
	return nil
}

// Events returns the events' names in the order they were recorded.
func (r *MemRecorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// File returns name's last contents ("" if it was never written).
func (r *MemRecorder) File(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.files[name])
}
