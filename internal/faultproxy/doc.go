// Package faultproxy puts a TCP proxy between a client and a server on the
// loopback interface and injects network faults into it on demand: added
// latency, a bandwidth limit, connection resets and a full stall. It is
// toxiproxy (github.com/Shopify/toxiproxy/v2) used as a library, in the
// test process, with no API server and no other listener than the proxy's.
//
//	fp, err := faultproxy.Start("127.0.0.1:5432")
//	defer fp.Close()
//	dsn := fp.RewriteURL(databaseURL) // the pool dials the proxy
//	fp.Latency(100*time.Millisecond, 0)
//	fp.Stall(2 * time.Second)           // no byte moves for 2s, none is lost
//	fp.Clear()
//
// A stall is a toxic of this package ("poolpilot_stall"): it holds every
// chunk in both directions until the stall ends and then forwards it, so a
// stall shorter than a client's timeout is invisible except as latency. The
// toxic is registered in toxiproxy's registry when the package loads (the
// library's only way to add a toxic type).
package faultproxy
