// Package runtest is the fixture of the tests that run `poolpilot run`
// end to end: two ledgerd instances at 10:2 on a fresh database, the seed
// plan with its time compressed (a run takes seconds, not an hour), written,
// approved and ticked, and the pool-size checks on /healthz.
//
// cmd/poolpilot runs the CLI in-process and reliability runs the built
// binary as a child process; each passes its way as a CLI:
//
//	f := runtest.New(t, runtest.Options{Soak: 3 * time.Second, CLI: myCLI})
//	f.Approve()
//	… run f.PlanFile …
//	f.ExpectAllAt(f.P.Change.To)
//
// The package's TestMain must call pgtest.RunMain when Options.DatabaseURL
// is "".
package runtest
