// Package testutil holds the small helpers that tests of several packages
// share (the PostgreSQL and service harnesses have their own packages:
// pgtest, ledgerdtest, promtest, ...). It does not import the testing
// package.
package testutil
