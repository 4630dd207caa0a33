package reliability

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

const plantedPassword = "pw-PLANTED-c0ffee-5eb1"

// passwordURL starts a private cluster, sets a password on its superuser
// and returns a URL of a fresh database that carries the password (the
// cluster trusts loopback, so the password is not needed to connect: it is
// planted only to be looked for).
func passwordURL(t *testing.T) (string, *pgtest.Server) {
	t.Helper()
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "400"}})
	pgtest.Exec(t, srv, "postgres", "CREATE DATABASE secrets", "ALTER ROLE CURRENT_USER PASSWORD '"+plantedPassword+"'")
	u, err := url.Parse(srv.URL("secrets"))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), plantedPassword)
	return u.String(), srv
}

// TestSecretsNeverLeak runs a full change (two ledgerd, `poolpilot run`
// with --progress, report, evidence verify) with a planted database
// password in every DATABASE_URL and a planted admin token, then makes the
// database unreachable, and scans for both secrets: stdout and stderr of
// every command, ledgerd's logs, /healthz and /metrics (healthy and with
// the database down), every file of the evidence tree and the report. The
// run folder is then tampered with in four ways, each of which `poolpilot
// evidence verify` must catch.
func TestSecretsNeverLeak(t *testing.T) {
	dsn, srv := passwordURL(t)
	f := newRunFixtureOn(t, dsn, 3*time.Second, nil)
	f.Approve()
	var seen []string
	scan := func(what, text string) {
		t.Helper()
		seen = append(seen, what)
		for _, s := range []string{plantedPassword, fixtureToken} {
			if strings.Contains(text, s) {
				t.Errorf("%s leaks %q:\n%s", what, s, trunc(text[max(0, strings.Index(text, s)-150):]))
			}
		}
	}
	out, stderr, code := f.cli(3*time.Minute, "run", f.PlanFile, "--progress")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, stderr)
	}
	scan("run stdout", out)
	scan("run stderr", stderr)
	dir := f.RunDirs()[0]
	for _, args := range [][]string{{"report", dir}, {"evidence", "verify", dir}, {"preflight", f.PlanFile}, {"plan", "check", f.PlanFile}} {
		o, e, _ := f.cli(time.Minute, args...)
		scan(strings.Join(args[:1], " ")+" stdout", o)
		scan(strings.Join(args[:1], " ")+" stderr", e)
	}
	probe := func(when string) {
		for i, ld := range f.Ledgerds {
			for _, p := range []string{"/healthz", "/metrics"} {
				resp, err := client.Get(ld.URL + p)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				scan(when+" ledgerd "+string(rune('1'+i))+" "+p, string(b))
			}
		}
	}
	probe("healthy")
	scanDashboard(t, f, scan)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past /healthz's 1 s ping cache
	probe("database down")
	o, e, _ := f.cli(time.Minute, "preflight", f.PlanFile)
	scan("preflight (db down) output", o+e)
	for i, ld := range f.Ledgerds {
		scan("ledgerd "+string(rune('1'+i))+" logs", ld.Logs())
	}
	files := 0
	_ = filepath.WalkDir(f.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != f.PlanFile {
			b, _ := os.ReadFile(p)
			scan(p, string(b))
			files++
		}
		return nil
	})
	t.Logf("scanned %d outputs, %d evidence files: no secret", len(seen), files)
	if files < 15 {
		t.Errorf("only %d files under the evidence tree", files)
	}
	tamper(t, f, dir)
}

// scanDashboard serves the evidence tree with `poolpilot serve` and scans
// every page, API answer and file it serves for each run.
func scanDashboard(t *testing.T, f *runFixture, scan func(what, text string)) {
	t.Helper()
	addr := closedPort(t)
	f.start("serve", filepath.Join(f.Dir, "evidence"), "--addr", addr)
	base := "http://" + addr
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("dashboard %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("dashboard %s: %d %s", path, resp.StatusCode, trunc(string(b)))
		}
		scan("dashboard "+path, string(b))
		return string(b)
	}
	eventually(t, 20*time.Second, "dashboard up", func() bool {
		resp, err := client.Get(base + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	get("/")
	var runs []struct{ ID string }
	if err := json.Unmarshal([]byte(get("/api/runs")), &runs); err != nil || len(runs) == 0 {
		t.Fatalf("dashboard /api/runs: %v %v", runs, err)
	}
	for _, r := range runs {
		for _, p := range []string{"/runs/" + r.ID, "/runs/" + r.ID + "/report", "/api/runs/" + r.ID} {
			get(p)
		}
		entries, _ := os.ReadDir(filepath.Join(f.PlanDir(), filepath.Base(r.ID)))
		for _, e := range entries {
			get("/runs/" + r.ID + "/files/" + e.Name())
		}
	}
}

// tamper copies the run folder and edits each copy after the fact.
func tamper(t *testing.T, f *runFixture, dir string) {
	t.Helper()
	edits := map[string]func(d string){
		"edited json": func(d string) { replaceIn(t, filepath.Join(d, evidence.FilePreChangeConfig), `"max"`, `"mAx"`) },
		"deleted file": func(d string) {
			if err := os.Remove(filepath.Join(d, evidence.FileConfigDiff)); err != nil {
				t.Fatal(err)
			}
		},
		"audit truncated": func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, evidence.FileAudit))
			lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
			writeFile(t, filepath.Join(d, evidence.FileAudit), []byte(strings.Join(lines[:len(lines)-1], "")))
		},
		"file added": func(d string) { writeFile(t, filepath.Join(d, "extra.txt"), []byte("x")) },
	}
	for name, edit := range edits {
		cp := filepath.Join(t.TempDir(), "run")
		if out, err := exec.Command("cp", "-a", dir, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		if _, _, code := f.cli(time.Minute, "evidence", "verify", cp); code != 0 {
			t.Fatalf("untouched copy does not verify: exit %d", code)
		}
		edit(cp)
		o, e, code := f.cli(time.Minute, "evidence", "verify", cp)
		if code == 0 {
			t.Errorf("%s: evidence verify passed\n%s", name, o)
		} else {
			t.Logf("%s: verify exit %d: %s", name, code, strings.TrimSpace(firstLine(e+o)))
		}
	}
}

func replaceIn(t *testing.T, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s: %v, or no %q in it", p, err, old)
	}
	writeFile(t, p, []byte(strings.Replace(string(b), old, new, 1)))
}

func firstLine(s string) string { return strings.SplitN(strings.TrimSpace(s), "\n", 2)[0] }
