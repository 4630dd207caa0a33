package hostcpu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/pgpool"
)

// Name is the source's name.
const Name = "hostcpu"

// TicksPerSecond is USER_HZ, the unit of /proc/<pid>/stat times (100 on
// every Linux platform Go supports).
const TicksPerSecond = 100

// Options configure a Source.
type Options struct {
	Instance string          // Sample.Instance; default "db"
	Cores    int             // default runtime.NumCPU()
	Clock    poolpilot.Clock // nil: the system clock
	Proc     string          // the proc file system; default /proc
}

// Source reports db.cpu for a process tree.
type Source struct {
	pid  int
	opts Options

	mu   sync.Mutex
	prev *reading
}

type reading struct {
	at    time.Time
	ticks uint64
}

// New returns a source for the process tree rooted at pid (the
// postmaster).
func New(pid int, opts Options) (*Source, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("hostcpu: pid %d: want the postmaster's pid", pid)
	}
	if opts.Instance == "" {
		opts.Instance = "db"
	}
	if opts.Cores <= 0 {
		opts.Cores = runtime.NumCPU()
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	if opts.Proc == "" {
		opts.Proc = "/proc"
	}
	return &Source{pid: pid, opts: opts}, nil
}

// Name returns "hostcpu".
func (s *Source) Name() string { return Name }

// Metrics lists "db.cpu".
func (s *Source) Metrics() []string { return []string{poolpilot.MetricDBCPU} }

// PID returns the root of the process tree.
func (s *Source) PID() int { return s.pid }

// Collect reads the tree's CPU time and reports its rate since the previous
// collection; the first collection, and one after a failed read, is a gap.
func (s *Source) Collect(ctx context.Context) ([]poolpilot.Sample, error) {
	ticks, err := TreeTicks(s.opts.Proc, s.pid)
	now := s.opts.Clock.Now()
	smp := poolpilot.Sample{Metric: poolpilot.MetricDBCPU, Instance: s.opts.Instance, Time: now, Source: Name}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.prev
	switch {
	case err != nil:
		s.prev = nil
		smp.Gap, smp.Reason = true, err.Error()
	case prev == nil || !now.After(prev.at):
		s.prev = &reading{now, ticks}
		smp.Gap, smp.Reason = true, "CPU rate needs two successive readings"
	default:
		s.prev = &reading{now, ticks}
		used := 0.0
		if ticks > prev.ticks {
			used = float64(ticks-prev.ticks) / TicksPerSecond
		}
		smp.Value = used / now.Sub(prev.at).Seconds() / float64(s.opts.Cores)
	}
	return []poolpilot.Sample{smp}, ctx.Err()
}

type stat struct {
	ppid                         int
	utime, stime, cutime, cstime uint64
}

// readStat parses /proc/<pid>/stat. The command name is in parentheses and
// may hold spaces and parentheses, so fields are counted after the last ')'.
func readStat(proc string, pid int) (stat, error) {
	var st stat
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return st, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return st, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); ppid is field 4, utime..cstime fields 14–17.
	if len(f) < 15 {
		return st, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	nums := make([]uint64, 4)
	for k, idx := range []int{11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil {
			return st, fmt.Errorf("/proc/%d/stat field %d: %w", pid, idx+3, err)
		}
		nums[k] = uint64(max(v, 0))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return st, fmt.Errorf("/proc/%d/stat ppid: %w", pid, err)
	}
	return stat{ppid: ppid, utime: nums[0], stime: nums[1], cutime: nums[2], cstime: nums[3]}, nil
}

// TreeTicks returns the CPU ticks of root and its live descendants, plus
// root's reaped children.
func TreeTicks(proc string, root int) (uint64, error) {
	rs, err := readStat(proc, root)
	if err != nil {
		return 0, fmt.Errorf("postmaster pid %d: %w", root, err)
	}
	ents, err := os.ReadDir(proc)
	if err != nil {
		return 0, err
	}
	children := map[int][]int{}
	stats := map[int]stat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(proc, pid)
		if err != nil {
			continue // exited meanwhile
		}
		stats[pid] = st
		children[st.ppid] = append(children[st.ppid], pid)
	}
	total := rs.utime + rs.stime + rs.cutime + rs.cstime
	queue := append([]int(nil), children[root]...)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		st := stats[pid]
		total += st.utime + st.stime
		queue = append(queue, children[pid]...)
	}
	return total, nil
}

// Querier is what FindPostmaster needs; *pgpool.Pool satisfies it.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgpool.Row
}

// ErrNotLocal says the server is not on this host.
var ErrNotLocal = errors.New("hostcpu: the PostgreSQL server is not on this host")

// FindPostmaster finds the pid of the postmaster of the server q talks to,
// when that server runs on this host: the parent of this session's backend
// (pg_backend_pid()), checked to be a postgres process. The server must be
// reached over a Unix socket or a loopback address, otherwise the pid
// would be another host's and ErrNotLocal is returned.
func FindPostmaster(ctx context.Context, q Querier, proc string) (int, error) {
	if proc == "" {
		proc = "/proc"
	}
	var backend int
	var addr *string
	if err := q.QueryRow(ctx, "SELECT pg_backend_pid(), host(inet_server_addr())").Scan(&backend, &addr); err != nil {
		return 0, fmt.Errorf("hostcpu: find the backend: %w", err)
	}
	if addr != nil {
		ip, err := netip.ParseAddr(*addr)
		if err != nil || !ip.IsLoopback() {
			return 0, fmt.Errorf("%w (connected to %s)", ErrNotLocal, *addr)
		}
	}
	st, err := readStat(proc, backend)
	if err != nil {
		return 0, fmt.Errorf("%w: backend pid %d is not visible here (%v)", ErrNotLocal, backend, err)
	}
	if !isPostgres(proc, backend) || !isPostgres(proc, st.ppid) {
		return 0, fmt.Errorf("%w: pid %d or its parent %d is not a postgres process", ErrNotLocal, backend, st.ppid)
	}
	return st.ppid, nil
}

func isPostgres(proc string, pid int) bool {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	// The postmaster is ".../bin/postgres -D …"; backends rename
	// themselves "postgres: user db host(port) state".
	first, _, _ := strings.Cut(string(b), "\x00")
	return filepath.Base(first) == "postgres" || strings.HasPrefix(first, "postgres:") || strings.HasPrefix(first, "postmaster")
}
