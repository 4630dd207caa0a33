package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/report"
)

// IncompleteError says that a run reached State but its closing evidence
// could not be written: the terminal state was not journalled, and
// --resume finishes the evidence from the journals.
type IncompleteError struct {
	RunID   string
	State   change.State
	Missing []string // the files (or records) not written
	Err     error    // the first failure
}

func (e *IncompleteError) Error() string {
	cause := error(e.Err)
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		cause = errno // "no space left on device", without the temporary file's path
	}
	return fmt.Sprintf("run %s reached %s, but evidence incomplete: %s not written (%v)",
		e.RunID, e.State, strings.Join(e.Missing, ", "), cause)
}

func (e *IncompleteError) Unwrap() error { return e.Err }

// page is the PAGE line for an incomplete closing.
func (e *IncompleteError) page(planPath, dir string) string {
	fix := "fix the cause"
	if errors.Is(e.Err, syscall.ENOSPC) {
		fix = "free space"
	}
	if planPath == "" {
		planPath = "PLAN"
	}
	return fmt.Sprintf("PAGE: %s; %s and run: poolpilot run %s --resume %s", e.Error(), fix, planPath, dir)
}

// finish is the controller's Finish: it journals the closing record (the
// outcome, the soak's verdict, the fleet view after, with every sample
// before it), records the terminal state in the audit log, writes the
// closing evidence (sustained_monitoring.json, the comparisons, the
// journal copy, the report) and closes the folder. Anything not written
// is an *IncompleteError, and the folder stays open.
func (r *runner) finish(ctx context.Context, out change.Outcome) error {
	if r.sealed {
		return nil
	}
	rec, err := r.closingRecord(out)
	if err != nil {
		return &IncompleteError{RunID: r.folder.RunID(), State: out.State, Missing: []string{"the samples journal (" + SamplesFile + ")"}, Err: err}
	}
	c := closer{r: r}
	if rec.Monitoring != nil {
		sm := *rec.Monitoring
		if sm.Samples = r.samples.all(); sm.Samples == nil {
			sm.Samples = []evidence.Sample{}
		}
		c.json(evidence.FileSustainedMonitoring, sm)
	}
	if r.base != nil && rec.After != nil {
		txt, lat := r.comparisons(*rec.After)
		c.file(evidence.FileErrorRateComparison, txt)
		c.json(evidence.FileLatencyComparison, lat)
	}
	if b, err := os.ReadFile(filepath.Join(ControlDir(r.dir), change.JournalFile)); err == nil {
		c.file(change.JournalFile, b)
	} else {
		c.fail(change.JournalFile, err)
	}
	r.stopMonitor()
	if err := r.auditState(rec); err != nil {
		c.fail("the "+string(rec.State)+" state change ("+evidence.FileAudit+", "+evidence.FileExecutionLog+")", err)
	}
	if c.err == nil {
		r.writeReport(&c)
	} else {
		c.missing = append(c.missing, evidence.FileReportMD, evidence.FileReportHTML)
	}
	if c.err == nil {
		h, err := r.folder.Close()
		if err != nil {
			c.fail(evidence.FileHead+" (the folder was not closed)", err)
		}
		r.head, r.sealed = h, err == nil
	}
	if c.err != nil {
		return &IncompleteError{RunID: r.folder.RunID(), State: rec.State, Missing: c.missing, Err: c.err}
	}
	return nil
}

// closer collects the closing files not written.
type closer struct {
	r       *runner
	missing []string
	err     error
}

func (c *closer) fail(name string, err error) {
	c.missing = append(c.missing, name)
	if c.err == nil {
		c.err = err
	}
	fmt.Fprintf(c.r.o.Log, "warning: evidence file %s not written: %v\n", name, err)
}

func (c *closer) file(name string, b []byte) {
	if err := c.r.folder.Write(name, b); err != nil {
		c.fail(name, err)
	}
}

func (c *closer) json(name string, v any) {
	if err := c.r.folder.WriteJSON(name, v); err != nil {
		c.fail(name, err)
	}
}

// closingRecord is the journalled closing record of out.State, or a new
// one journalled now, after every sample. A new outcome (a manual rollback
// of a run whose closing was incomplete) keeps the soak record of the
// journalled one when this process has none.
func (r *runner) closingRecord(out change.Outcome) (*closingRecord, error) {
	prev, _ := r.samples.closed()
	if prev != nil && prev.State == out.State {
		return prev, nil
	}
	if err := r.flushSamples(); err != nil {
		return nil, err
	}
	rec := &closingRecord{State: out.State, Reason: out.Reason, Time: r.clock.Now().UTC(),
		Monitoring: r.monitoringHeader(out, len(r.samples.all())), After: r.afterFleet()}
	if prev != nil && r.soak.verdict == "" && prev.Monitoring != nil {
		rec.Monitoring = prev.Monitoring
	}
	if prev != nil && r.after == nil && prev.After != nil {
		rec.After = prev.After
	}
	if err := r.samples.append(sampleRecord{Kind: recClosing, Closing: rec}); err != nil {
		return nil, err
	}
	return rec, nil
}

// auditState records the terminal state change in the audit log, unless a
// process before a crash did: the projection (change.StateChange) of the
// journal record that change.Controller journals once the folder is closed.
func (r *runner) auditState(rec *closingRecord) error {
	lines := r.folder.Lines()
	dec := evidence.NewDecoder(lines)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Event != evidence.EventStateChange {
			continue
		}
		if sc, err := dec.StateChange(lines[i]); err == nil && sc.To == string(rec.State) {
			return nil
		}
		break
	}
	from := change.ReplayRecords(r.journal.Records()).State
	return r.folder.Record(change.StateChange(from, change.StateRecord(rec.State, rec.Reason)))
}

// writeReport renders report.md and report.html into the folder.
func (r *runner) writeReport(c *closer) {
	m, err := report.Load(r.dir)
	if err != nil {
		c.fail(evidence.FileReportMD, err)
		return
	}
	r.beforeClose(m)
	c.file(evidence.FileReportMD, report.Markdown(m, report.MarkdownOptions{}))
	html, err := report.HTML(m)
	if err != nil {
		c.fail(evidence.FileReportHTML, err)
		return
	}
	c.file(evidence.FileReportHTML, html)
	r.reportPath = filepath.Join(r.dir, evidence.FileReportHTML)
}

func (r *runner) stopMonitor() {
	r.mu.Lock()
	m := r.mon
	r.mon = nil
	r.mu.Unlock()
	if m != nil {
		m.Stop()
	}
}

// alreadyClosed ends a --resume of a run whose evidence folder is closed:
// it journals the terminal state when a crash came between the closing
// and the journal, and reports how the run ended.
func (r *runner) alreadyClosed(res Result) (Result, error) {
	rp := change.ReplayRecords(r.journal.Records())
	res.Ended = r.clock.Now().UTC()
	if !rp.State.Terminal() {
		rec, _ := r.samples.closed()
		if rec == nil {
			res.State, res.ExitCode = rp.State, poolpilot.ExitInternal
			return res, fmt.Errorf("%s: the evidence folder is closed but the run did not end (journal in %s)", r.dir, rp.State)
		}
		if _, err := r.journal.Append(change.StateRecord(rec.State, rec.Reason), r.clock.Now()); err != nil {
			res.State, res.ExitCode = rp.State, poolpilot.ExitInternal
			return res, fmt.Errorf("the evidence is closed but the journal cannot record %s: %w", rec.State, err)
		}
		r.logf("resume: the evidence was closed before the crash; the journal now records %s", rec.State)
		rp.State, rp.Reason = rec.State, rec.Reason
	} else {
		r.logf("resume: the run already ended in %s and its evidence is closed", rp.State)
	}
	res.State, res.Reason, res.ExitCode = rp.State, rp.Reason, exitFor(rp.State)
	if b, err := os.ReadFile(filepath.Join(r.dir, evidence.FileHead)); err == nil {
		if h, err := evidence.ParseHead(b); err == nil {
			res.Head = h.Hash
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, evidence.FileReportHTML)); err == nil {
		res.Report = filepath.Join(r.dir, evidence.FileReportHTML)
	}
	return res, nil
}
