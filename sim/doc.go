// Package sim runs the change controller (change.Controller) over a large
// simulated fleet — a fake driver whose instances show a new pool size a
// restart delay after the apply, a fake prober and a fake clock — so that
// the controller's own cost (CPU, memory, journal and evidence volume) and
// the simulated timeline of a 500-instance change can be measured in
// seconds. See docs/scaling.md for the figures and the command.
package sim
