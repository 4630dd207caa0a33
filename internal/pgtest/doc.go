// Package pgtest gives tests PostgreSQL: a shared cluster per test binary
// (NewDatabase hands each test a fresh database on it), private clusters for
// tests that stop or restart the server (New), and RunMain to stop the shared
// cluster after the tests. The clusters themselves come from
// internal/pgcluster, which the demo uses without the testing package.
//
// POOLPILOT_TEST_DATABASE_URL, when set, points Shared at an existing server
// instead of starting one.
package pgtest
