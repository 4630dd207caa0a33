package sim

import "github.com/poolpilot/poolpilot/evidence"

// MemRecorder keeps the audit events' names and each evidence file's last
// contents (evidence.MemRecorder); Recorder keeps only sizes, for
// simulations at scale.
type MemRecorder = evidence.MemRecorder
