package sim

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// cost is what one run cost the process.
type cost struct {
	cpu        time.Duration // user + system
	wall       time.Duration
	allocBytes uint64
	allocs     uint64
	heapAfter  uint64 // live heap after the run, after a GC
}

func rusage() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measure(t *testing.T, f func()) cost {
	t.Helper()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0, w0 := rusage(), time.Now()
	f()
	c := cost{cpu: rusage() - c0, wall: time.Since(w0)}
	runtime.ReadMemStats(&m1)
	c.allocBytes, c.allocs = m1.TotalAlloc-m0.TotalAlloc, m1.Mallocs-m0.Mallocs
	runtime.GC()
	runtime.ReadMemStats(&m1)
	c.heapAfter = m1.HeapAlloc
	return c
}

// Bounds: measured on the shared 2-core build machine at most 0.32 s CPU,
// 66 MiB allocated, 0.4 MiB live (0.68 s, 77 MiB under -race; see
// docs/scaling.md), with a margin of 4× or more. They bound the controller, the fsynced journal and the
// in-memory recorder — not a driver or a prober.
const (
	maxCPU   = 3 * time.Second
	maxAlloc = 320 << 20 // bytes allocated over the whole run
	maxHeap  = 16 << 20  // live heap after the run
)

func TestSimulated500(t *testing.T) {
	cases := []struct {
		name     string
		o        Options
		want     change.State
		applies  int
		atFrom   int
		simAtMin time.Duration
	}{
		{"success", Options{Instances: 500, Batch: 25, RestartDelay: 30 * time.Second, Detect: time.Hour, FailAt: -1}, change.StateSucceeded, 500, 0, 20*30*time.Second + time.Hour},
		{"rollback after the soak fires", Options{Instances: 500, Batch: 25, RestartDelay: 30 * time.Second, Detect: 6 * time.Minute, Rollback: true, FailAt: -1}, change.StateRolledBack, 1000, 500, 20*30*time.Second + 6*time.Minute + 30*time.Second},
		{"apply fails at instance 260", Options{Instances: 500, Batch: 25, RestartDelay: 30 * time.Second, FailAt: 260}, change.StateRolledBack, 522, 500, 10*30*time.Second + 30*time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Dir = t.TempDir()
			rec := &Recorder{}
			tc.o.Recorder = rec
			var res Result
			var err error
			c := measure(t, func() { res, err = Run(context.Background(), tc.o) })
			if err != nil || res.Outcome.State != tc.want {
				t.Fatalf("outcome %+v err %v", res.Outcome, err)
			}
			want := plan.PoolSize{Max: 200, Min: 20}
			if tc.atFrom > 0 {
				want = plan.PoolSize{Max: 10, Min: 2}
			}
			if n := res.Fleet.Count(want); n != 500 {
				t.Errorf("%d of 500 instances at %d:%d", n, want.Max, want.Min)
			}
			if res.Fleet.Applies != tc.applies {
				t.Errorf("%d applies, want %d", res.Fleet.Applies, tc.applies)
			}
			if res.Simulated < tc.simAtMin {
				t.Errorf("simulated %s, want at least %s", res.Simulated, tc.simAtMin)
			}
			journal, _ := os.Stat(filepath.Join(tc.o.Dir, change.JournalFile))
			t.Logf("%s: simulated %s; cpu %s wall %s; allocated %.1f MiB in %d allocs; live heap after %.1f MiB; journal %d records %d bytes; %d health probes; %d events; %d evidence writes, %.1f MiB written (deployment_log.txt %d bytes)",
				tc.name, res.Simulated, c.cpu.Round(time.Millisecond), c.wall.Round(time.Millisecond), float64(c.allocBytes)/(1<<20), c.allocs,
				float64(c.heapAfter)/(1<<20), res.Journal, journal.Size(), res.Fleet.Healths, rec.Events, rec.Writes, float64(rec.WriteBytes)/(1<<20), rec.Files["deployment_log.txt"])
			if c.cpu > maxCPU || c.allocBytes > maxAlloc || c.heapAfter > maxHeap {
				t.Errorf("controller cost over its bounds: cpu %s (≤ %s), allocated %d (≤ %d), heap %d (≤ %d)", c.cpu, maxCPU, c.allocBytes, maxAlloc, c.heapAfter, maxHeap)
			}
		})
	}
}

// BenchmarkSimulated500 is the rollback case per iteration:
// go test -run - -bench Simulated500 -benchmem -benchtime 3x ./sim/
func BenchmarkSimulated500(b *testing.B) {
	for b.Loop() {
		res, err := Run(context.Background(), Options{Instances: 500, Batch: 25, RestartDelay: 30 * time.Second, Detect: 6 * time.Minute, Rollback: true, FailAt: -1, Dir: b.TempDir()})
		if err != nil || res.Outcome.State != change.StateRolledBack {
			b.Fatalf("outcome %+v err %v", res.Outcome, err)
		}
	}
}

// BenchmarkSimulated500Evidence is the same with the real evidence folder
// (hash-chained audit log, atomic fsynced files):
// go test -run - -bench Simulated500Evidence -benchmem -benchtime 1x ./sim/
func BenchmarkSimulated500Evidence(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		ev, err := evidence.Open(filepath.Join(dir, "evidence"), evidence.Options{Plan: "phase1_pool_scaling"})
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), Options{Instances: 500, Batch: 25, RestartDelay: 30 * time.Second, Detect: 6 * time.Minute, Rollback: true, FailAt: -1, Dir: dir, Recorder: ev})
		if err != nil || res.Outcome.State != change.StateRolledBack {
			b.Fatalf("outcome %+v err %v", res.Outcome, err)
		}
		if _, err := ev.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
