// Package ledgerdtest starts ledgerd for other packages' tests, in-process
// (the default, through ledger/service, the same code cmd/ledgerd runs) or as
// a child process (the cmd/ledgerd binary, built into the test's temp dir).
//
//	func TestMain(m *testing.M) { pgtest.RunMain(m) } // needed when DatabaseURL is ""
//
//	func TestSomething(t *testing.T) {
//		ld := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "secret-token"})
//		resp, err := http.Get(ld.URL + "/healthz")
//		…
//		ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 0.2})
//	}
//
// The instance stops (gracefully) when the test ends; Stop stops it earlier.
package ledgerdtest
