package dashboard

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// follow reads a live run's audit log and its instances' /healthz every
// interval until the run ends (then once more, and verifies the folder)
// or ctx ends.
func (h *Hub) follow(ctx context.Context, r *run) {
	interval := h.opts.Interval
	if interval <= 0 && r.plan != nil {
		interval = r.plan.Evaluation.Interval.D()
	}
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		h.tail(r)
		r.mu.Lock()
		done := r.terminal && !r.ended.IsZero()
		r.mu.Unlock()
		if done {
			return // endLive read the log and verified the folder
		}
		h.pollHealth(ctx, r, interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tail reads the complete audit lines appended since the last read.
func (h *Hub) tail(r *run) {
	r.tailMu.Lock()
	defer r.tailMu.Unlock()
	f, err := os.Open(filepath.Join(r.dir, evidence.FileAudit))
	if err != nil {
		return
	}
	defer f.Close()
	r.mu.Lock()
	off := r.auditOff
	r.mu.Unlock()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil || len(b) == 0 {
		return
	}
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return // a line is being written
	}
	var lines []evidence.Line
	for _, rl := range evidence.ReadAuditLines(b[:end+1]) {
		if rl.Err == nil {
			lines = append(lines, rl.Line)
		}
	}
	r.mu.Lock()
	r.auditOff = off + int64(end+1)
	r.mu.Unlock()
	r.addLines(lines)
}

// finishLive verifies the ended run's folder and lists its files.
func (h *Hub) finishLive(r *run) {
	res, err := evidence.Verify(r.dir, nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.verify, r.files = verifyView(res), fileViews(res)
	}
	r.touchLocked(secEvidence, secHead)
}

// pollHealth reads every instance's /healthz in parallel and records the
// instances and a fleet sample (the worst instance, as the monitor does).
func (h *Hub) pollHealth(ctx context.Context, r *run, interval time.Duration) {
	if r.plan == nil || len(r.plan.Instances) == 0 {
		return
	}
	ins := r.plan.Instances
	out := make([]InstanceView, len(ins))
	hs := make([]*poolpilot.Health, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Add(1)
		go func(i int, in plan.Instance) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, max(interval*8/10, 300*time.Millisecond))
			defer cancel()
			hl, err := h.opts.Health(pctx, in)
			out[i] = instanceView(in, hl, err)
			if err == nil {
				hs[i] = &hl
			}
		}(i, in)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	r.addSample(fleetSample(h.now(), hs), out)
}

func instanceView(in plan.Instance, hl poolpilot.Health, err error) InstanceView {
	iv := InstanceView{Name: in.Name, Host: hostOf(in.HealthURL), Status: hl.Status}
	if err != nil {
		iv.Error = err.Error()
		if hl.Status == "" {
			iv.Status = "unreachable"
			return iv
		}
	}
	p := hl.Pool
	iv.Max, iv.Min = p.Max, p.Min
	iv.MaxSource, iv.MinSource = string(p.Source["max"]), string(p.Source["min"])
	iv.Total, iv.Acquired, iv.Idle, iv.Waiting = &p.Total, &p.Acquired, &p.Idle, &p.Waiting
	util, wait := p.Utilization, p.WaitP95MS
	if p.Max > 0 && util == 0 {
		util = float64(p.Acquired) / float64(p.Max)
	}
	iv.Utilization, iv.WaitP95MS = &util, &wait
	if rq := hl.Requests; rq != nil {
		er, lat := rq.ErrorRate, rq.LatencyP95MS
		iv.ErrorRate, iv.LatencyP95MS = &er, &lat
	}
	return iv
}

// fleetSample is the worst instance's value of each charted metric; nil
// where no instance answered.
func fleetSample(at time.Time, hs []*poolpilot.Health) evidence.Sample {
	s := evidence.Sample{Time: at}
	worst := func(dst **float64, v float64) {
		if *dst == nil || v > **dst {
			x := v
			*dst = &x
		}
	}
	for _, hl := range hs {
		if hl == nil {
			continue
		}
		p := hl.Pool
		util := p.Utilization
		if p.Max > 0 && util == 0 {
			util = float64(p.Acquired) / float64(p.Max)
		}
		worst(&s.Utilization, util)
		worst(&s.WaitP95MS, p.WaitP95MS)
		if rq := hl.Requests; rq != nil {
			worst(&s.ErrorRate, rq.ErrorRate)
			worst(&s.LatencyP95MS, rq.LatencyP95MS)
		}
	}
	return s
}

func verifyView(res evidence.Result) *VerifyView {
	vv := &VerifyView{OK: res.OK, Closed: res.Closed, Signed: res.Signed, Head: res.Head, Lines: res.Lines}
	if p := res.First(); p != nil {
		vv.Problem = p.Message
	}
	return vv
}

func fileViews(res evidence.Result) []FileView {
	out := make([]FileView, 0, len(res.Files)+1)
	for _, fc := range res.Files {
		if fc.SHA256 == "" {
			continue // logged but missing: Verify's problem says so
		}
		out = append(out, FileView{Name: fc.Name, Size: fc.Size, OK: fc.OK})
	}
	return out
}
