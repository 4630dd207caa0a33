package runner

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
)

// SamplesFile is the samples journal in a run's control folder: every
// monitoring sample (one per evaluation) as it is taken, the fleet view
// after the load test, and the closing record (the outcome and the soak's
// verdict) written before the closing evidence. It is what the closing
// evidence is made from, so that a crash or a full disk loses none of it.
const SamplesFile = "samples.jsonl"

// Preallocation: the journal reserves disk space ahead of its end, so
// that samples (and the closing record) are still journalled when the
// disk fills up during the soak.
const (
	samplesChunk   = 256 << 10
	samplesReserve = 64 << 10
)

// Kinds of samples journal records.
const (
	recSample  = "sample"
	recAfter   = "after"
	recClosing = "closing"
)

// sampleRecord is one line of the samples journal.
type sampleRecord struct {
	Kind    string              `json:"kind"`
	Sample  *evidence.Sample    `json:"sample,omitempty"`
	After   *evidence.Aggregate `json:"after,omitempty"`
	Closing *closingRecord      `json:"closing,omitempty"`
}

// closingRecord is the outcome a run reached and everything its closing
// evidence needs besides the samples: journalled before that evidence is
// written, so that --resume writes the same evidence.
type closingRecord struct {
	State  change.State `json:"state"`
	Reason string       `json:"reason,omitempty"`
	Time   time.Time    `json:"time"`
	// Monitoring is sustained_monitoring.json without its samples (nil
	// when no monitor ran).
	Monitoring *evidence.SustainedMonitoring `json:"monitoring,omitempty"`
	// After is the fleet view after the load test or the soak, for the
	// comparison files (nil when neither ran).
	After *evidence.Aggregate `json:"after,omitempty"`
}

// samplesJournal is the open samples journal.
type samplesJournal struct {
	mu      sync.Mutex
	f       *evidence.JSONL
	alloc   int64 // bytes reserved on disk
	samples []evidence.Sample
	after   *evidence.Aggregate
	closing *closingRecord
}

// openSamplesJournal opens (or creates) the samples journal in dir and
// reads it; a torn last line (a crash in the middle of a write) is cut off.
func openSamplesJournal(dir string) (*samplesJournal, error) {
	j := &samplesJournal{}
	f, err := evidence.OpenJSONL(filepath.Join(dir, SamplesFile), "samples journal", func(n int, line []byte) error {
		var rec sampleRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("line %d is not a samples journal record: %v", n, err)
		}
		j.apply(rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	j.f = f
	j.reserve()
	return j, nil
}

func (j *samplesJournal) apply(rec sampleRecord) {
	switch rec.Kind {
	case recSample:
		if rec.Sample != nil {
			j.samples = append(j.samples, *rec.Sample)
		}
	case recAfter:
		j.after = rec.After
	case recClosing:
		j.closing = rec.Closing
	}
}

// reserve keeps at least samplesReserve bytes allocated past the end
// (fallocate, keeping the size). It is best effort: a file system without
// preallocation, or a disk already full, leaves appends to take their
// chance.
func (j *samplesJournal) reserve() {
	if j.alloc-j.f.Size() >= samplesReserve {
		return
	}
	want := j.f.Size() + samplesChunk
	if preallocate(j.f.OSFile(), want) == nil {
		j.alloc = want
	}
}

// append writes recs with one write and fsyncs them.
func (j *samplesJournal) append(recs ...sampleRecord) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.appendLocked(recs)
}

// appendSamples journals the samples of ss newer than the newest
// journalled one (concurrent flushes journal each sample once).
func (j *samplesJournal) appendSamples(ss []evidence.Sample) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var last time.Time
	if n := len(j.samples); n > 0 {
		last = j.samples[n-1].Time
	}
	var recs []sampleRecord
	for _, s := range ss {
		if s.Time.After(last) {
			s := s
			recs = append(recs, sampleRecord{Kind: recSample, Sample: &s})
		}
	}
	return j.appendLocked(recs)
}

func (j *samplesJournal) appendLocked(recs []sampleRecord) error {
	if len(recs) == 0 {
		return nil
	}
	vals := make([]any, len(recs))
	for i, rec := range recs {
		vals[i] = rec
	}
	if err := j.f.Append(vals...); err != nil {
		return err
	}
	for _, rec := range recs {
		j.apply(rec)
	}
	j.reserve()
	return nil
}

// lastTime is the time of the newest journalled sample.
func (j *samplesJournal) lastTime() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	if n := len(j.samples); n > 0 {
		return j.samples[n-1].Time
	}
	return time.Time{}
}

// all returns the journalled samples, oldest first.
func (j *samplesJournal) all() []evidence.Sample {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]evidence.Sample(nil), j.samples...)
}

func (j *samplesJournal) closed() (*closingRecord, *evidence.Aggregate) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closing, j.after
}

func (j *samplesJournal) Close() error { return j.f.Close() }

// flushSamples journals the monitor's samples taken since the last flush
// (one write, one fsync).
func (r *runner) flushSamples() error {
	r.mu.Lock()
	m := r.mon
	r.mu.Unlock()
	if m == nil || r.samples == nil {
		return nil
	}
	return r.samples.appendSamples(m.Samples())
}

// journalAfter journals the fleet view after the load test or the soak.
func (r *runner) journalAfter() error {
	if r.after == nil || r.samples == nil {
		return nil
	}
	a := r.after.fleet()
	return r.samples.append(sampleRecord{Kind: recAfter, After: &a})
}

// flushEvery is how often the samples are journalled: every evaluation
// interval, at most a second apart.
func (r *runner) flushEvery() time.Duration {
	return min(max(r.p.Evaluation.Interval.D(), 100*time.Millisecond), time.Second)
}

// flushLoop journals samples every flushEvery until stop is called; the
// first failure of each kind is logged (the samples stay in memory and
// are retried at the next flush).
func (r *runner) flushLoop() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.flushEvery())
		defer t.Stop()
		var warned string
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := r.flushSamples(); err != nil && err.Error() != warned {
					warned = err.Error()
					r.logf("warning: monitoring samples not journalled yet (kept in memory, retried): %v", err)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
