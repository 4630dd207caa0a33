// Package browsertest drives the dashboard in Debian's Chromium with
// chromedp during a real run: PostgreSQL (internal/pgtest), two ledgerd
// instances (internal/ledgerdtest) and runner.Run with the dashboard's
// Observer, a compressed plan. It has tests only; they fail, never skip,
// when Chromium is missing (scripts/test.sh installs it).
//
//	go test -count=1 ./tests/browser/ -screenshots docs/img
//
// writes docs/img/dashboard-running.png, dashboard-finished.png and
// dashboard-phone.png.
package browsertest
