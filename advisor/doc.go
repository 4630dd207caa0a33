// Package advisor measures the right connection-pool size instead of
// guessing it: a closed-loop sweep of concurrency through the instrumented
// pool (Sweep), a fit of the Universal Scalability Law to the measured
// throughput (FitUSL), a per-instance max/min recommendation (Recommend),
// the fleet's connection budget against the server's limits (FleetBudget),
// and the warning that preflight gives when a plan's target max is far above
// a saved recommendation (Check, LoadReport). See docs/sizing.md.
package advisor
