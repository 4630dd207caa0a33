// Package promtest runs a real Prometheus server (Debian's
// /usr/bin/prometheus) for tests and demos: a generated configuration that
// scrapes the given targets every second, its TSDB in a temporary
// directory, listening on a free loopback port.
//
//	srv := promtest.New(t, promtest.Options{Targets: []string{ld.Addr}})
//	if err := srv.WaitTargetsUp(ctx); err != nil { … }
//	// query srv.URL + "/api/v1/query?query=up"
//
// Outside tests: srv, err := promtest.Start(ctx, opts); defer srv.Close().
package promtest
