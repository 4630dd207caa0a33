package reliability

// The run fixture (internal/runtest) with the poolpilot binary run as a
// child process: two ledgerd instances at 10:2 on a fresh database, the
// seed plan with time compressed, approved and ticked.

import (
	"bytes"
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
)

const fixtureToken = "tok-FIXTURE-b41d07e2"

// poolpilotBin builds cmd/poolpilot once per test binary.
func poolpilotBin(t testing.TB) string {
	t.Helper()
	return runtest.Binary(t, "github.com/poolpilot/poolpilot/cmd/poolpilot")
}

type runFixture struct{ *runtest.Fixture }

func newRunFixture(t *testing.T, soak time.Duration, extraEnv map[string]string) *runFixture {
	t.Helper()
	f := newRunFixtureOn(t, pgtest.NewDatabase(t), soak, extraEnv)
	f.Approve()
	return f
}

// newRunFixtureOn writes the plan for ledgerd instances on db, unapproved.
func newRunFixtureOn(t *testing.T, db string, soak time.Duration, extraEnv map[string]string) *runFixture {
	t.Helper()
	cli := func(env map[string]string, args ...string) (string, string, int) {
		return runBinary(t, env, time.Minute, args...)
	}
	return &runFixture{runtest.New(t, runtest.Options{DatabaseURL: db, Name: "reliability", Token: fixtureToken,
		Soak: soak, LedgerdEnv: extraEnv, CLI: cli})}
}

// runBinary runs the binary with env to completion, bounded by d.
func runBinary(t testing.TB, env map[string]string, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := runtest.Command(ctx, poolpilotBin(t), env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("poolpilot %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// cli runs the binary with the fixture's environment, bounded by d.
func (f *runFixture) cli(d time.Duration, args ...string) (string, string, int) {
	f.T.Helper()
	return runBinary(f.T, f.Env, d, args...)
}

// start runs the binary in the background (stdout and stderr each into a
// *bytes.Buffer); cleanup kills it.
func (f *runFixture) start(args ...string) *exec.Cmd {
	f.T.Helper()
	cmd := runtest.Command(context.Background(), poolpilotBin(f.T), f.Env, args...)
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		f.T.Fatal(err)
	}
	f.T.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}
