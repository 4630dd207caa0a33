package poolpilot

// Criterion roles.
const (
	RoleSuccess  = "success"  // must hold for the change to succeed
	RoleRollback = "rollback" // triggers an automatic rollback when it fires
)

// Incident classes (the seed's P0/P1).
const (
	ClassP0 = "P0" // immediate rollback once it fires; without a "for" window it fires at once
	ClassP1 = "P1" // investigate; rollback if it persists for its window
)

// Criterion scopes.
const (
	ScopeInstance = "instance" // evaluated on each instance; any instance breaching counts
	ScopeFleet    = "fleet"    // evaluated on the fleet aggregate
)

// CriterionSpec is one success criterion or rollback trigger, as written in
// a plan. The criteria package parses Expr and evaluates it.
//
// Expr reads "METRIC OP VALUE", for example "error_rate > 0.01",
// "pool.max == 200" or "latency_p95_ms > baseline * 1.2". For a success
// criterion Expr is the requirement (it breaches when Expr is false); for a
// rollback trigger Expr is the trigger condition (it breaches when Expr is
// true). A breach must last For before the criterion fires.
type CriterionSpec struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Expr        string `yaml:"expr" json:"expr"`
	// Query is a PromQL expression, for Expr metrics named "promql".
	Query string   `yaml:"query,omitempty" json:"query,omitempty"`
	For   Duration `yaml:"for,omitempty" json:"for,omitempty"`
	Role  string   `yaml:"role" json:"role"`
	Class string   `yaml:"class,omitempty" json:"class,omitempty"`
	Scope string   `yaml:"scope,omitempty" json:"scope,omitempty"`
	// Aggregate combines instances for fleet scope: max, min, avg or sum.
	Aggregate string `yaml:"aggregate,omitempty" json:"aggregate,omitempty"`
	// MaxInconclusive is how long the criterion may lack data before that
	// counts as a breach; 0 means the plan's default.
	MaxInconclusive Duration `yaml:"max_inconclusive,omitempty" json:"max_inconclusive,omitempty"`
	// Optional lets a run skip this criterion, with a warning, when no
	// source or instance can feed it; otherwise preflight refuses the plan.
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
}
