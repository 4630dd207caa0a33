package poolpilot

// FromDetected marks a value poolpilot inferred from the environment rather
// than read from a variable, e.g. a transaction-mode pooler recognised from
// the DATABASE_URL host ("-pooler") or port (6432).
const FromDetected Provenance = "detected"
