package pgpool

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// serverCount counts the server backends of one application_name.
type serverCount struct {
	mu   sync.Mutex
	conn *pgx.Conn
	app  string
}

func newServerCount(t *testing.T, dsn, app string) *serverCount {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return &serverCount{conn: c, app: app}
}

func (s *serverCount) get(t testing.TB) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int
	err := s.conn.QueryRow(context.Background(),
		"select count(*) from pg_stat_activity where application_name = $1", s.app).Scan(&n)
	if err != nil {
		t.Errorf("count backends: %v", err)
	}
	return n
}

// load runs `select pg_sleep(0.005)` from n goroutines until stopped.
type load struct {
	stop     context.CancelFunc
	wg       sync.WaitGroup
	done     atomic.Int64
	failed   atomic.Int64
	firstErr atomic.Value
}

func startLoad(p *Pool, n int) *load {
	ctx, stop := context.WithCancel(context.Background())
	l := &load{stop: stop}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				qctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := p.Exec(qctx, "select pg_sleep(0.005)")
				cancel()
				if err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				} else {
					l.done.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *load) finish() { l.stop(); l.wg.Wait() }

// sampler polls the server-side count and remembers the first sample above
// the bound that held at that moment.
type sampler struct {
	bound atomic.Int64
	over  atomic.Value // [2]int64{count, bound}
	stop  context.CancelFunc
	ended chan struct{}
}

func startSampler(t *testing.T, srv *serverCount, bound int) *sampler {
	ctx, stop := context.WithCancel(context.Background())
	s := &sampler{stop: stop, ended: make(chan struct{})}
	s.bound.Store(int64(bound))
	go func() {
		defer close(s.ended)
		for ctx.Err() == nil {
			b := s.bound.Load()
			n := int64(srv.get(t))
			b = max(b, s.bound.Load())
			if n > b {
				s.over.CompareAndSwap(nil, [2]int64{n, b})
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	t.Cleanup(s.finish)
	return s
}

func (s *sampler) finish() { s.stop(); <-s.ended }

// TestLiveResizeUnderLoad resizes 10→50→5→20 while 32 goroutines run
// queries, and checks that no query fails and that the server-side count
// never exceeds max(old, new) during a resize and drops to the new max once
// in-flight work has drained.
func TestLiveResizeUnderLoad(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const app = "pgpool-resize-test"
	p := openTest(t, testConfig(t, dsn, 10, 2), Options{AppName: app})
	srv := newServerCount(t, dsn, app)
	l := startLoad(p, 32)
	defer l.finish()
	smp := startSampler(t, srv, 10)

	waitFor(t, 5*time.Second, func() bool { return p.Stats().Waiting > 0 }, "a saturated pool at max 10")
	cur := 10
	for _, st := range []struct{ max, min int }{{50, 5}, {5, 1}, {20, 2}} {
		smp.bound.Store(int64(max(cur, st.max)))
		if err := p.Resize(context.Background(), st.max, st.min); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool { return srv.get(t) <= st.max && p.Stats().Total <= st.max },
			"server count to reach the new max "+itoa(st.max))
		smp.bound.Store(int64(st.max))
		if st.max > cur { // growing: the 32 workers get more than the old max
			waitFor(t, 5*time.Second, func() bool { return srv.get(t) > cur }, "pool to grow above the old max")
		}
		cur = st.max
		before := l.done.Load()
		waitFor(t, 5*time.Second, func() bool { return l.done.Load() > before+150 }, "progress at the new size")
	}
	l.finish()
	smp.finish()

	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d queries failed during resize, first: %v", n, l.firstErr.Load())
	}
	if v := smp.over.Load(); v != nil {
		t.Errorf("server count %d exceeded the bound %d", v.([2]int64)[0], v.([2]int64)[1])
	}
	s, cfg := p.Stats(), p.Config()
	if s.Resizes != 3 || cfg.Max != 20 || cfg.Min != 2 || cfg.Source[KeyMax] != poolpilot.FromAdmin || cfg.Source[KeyMin] != poolpilot.FromAdmin {
		t.Errorf("after resizes: resizes %d config %+v", s.Resizes, cfg)
	}
	if s.Acquires < l.done.Load() || s.ClosedByReason["resize"] == 0 {
		t.Errorf("statistics lost across resizes: acquires %d (done %d), closed %v", s.Acquires, l.done.Load(), s.ClosedByReason)
	}
	t.Logf("queries %d, stats: total %d opened %d closed %v wait p95 %.2fms queue p95 %.2fms",
		l.done.Load(), s.Total, s.Opened, s.ClosedByReason, s.WaitP95MS, s.QueueP95MS)
}

func TestResizeValidates(t *testing.T) {
	p := openTest(t, testConfig(t, pgtest.NewDatabase(t), 4, 1), Options{})
	for _, tc := range []struct {
		max, min int
		want     string
	}{
		{0, 0, "max (0) must be at least 1"},
		{5, 6, "min (6) must not exceed max (5)"},
		{20000, 1, "max (20000) is absurd"},
		{5, -1, "min (-1) must not be negative"},
	} {
		err := p.Resize(context.Background(), tc.max, tc.min)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resize(%d,%d) = %v, want %q", tc.max, tc.min, err, tc.want)
		}
	}
	if c := p.Config(); c.Max != 4 || c.Min != 1 || c.Source[KeyMax] != poolpilot.FromEnv {
		t.Errorf("a refused resize changed the config: %+v", c)
	}
}
