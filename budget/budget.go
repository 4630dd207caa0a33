// Package budget is the connection budget, computed in one place: the
// server's limits, the fleet at its largest, the pool max, the other
// clients and an optional pooler in front go in; the verdict, the largest
// pool max that fits, and the arithmetic as sentences come out. It is pure:
// no I/O, only the standard library. pgpool (a pool's own budget at Open),
// preflight (connection_budget, pooler_budget), advisor (poolpilot size's
// fleet and plan budgets) and pgbouncer (both sides of PgBouncer) call it.
package budget

import "fmt"

// Limits are the server's connection limits and its current load.
type Limits struct {
	Version             string `json:"server_version"`
	MaxConnections      int    `json:"max_connections"`
	SuperuserReserved   int    `json:"superuser_reserved_connections"`
	ReservedConnections int    `json:"reserved_connections"` // PostgreSQL 16+, 0 before
	// OtherConnections are client backends open on the server, not counting
	// the connection that asked.
	OtherConnections int `json:"other_connections"`
}

// Capacity is what clients may open: max_connections minus both reserves.
func (l Limits) Capacity() int {
	return l.MaxConnections - l.SuperuserReserved - l.ReservedConnections
}

// Available is what a new pool can open: Capacity minus the other
// connections.
func (l Limits) Available() int { return l.Capacity() - l.OtherConnections }

// Arithmetic is Available with its numbers, e.g. "max_connections 100 −
// superuser_reserved 3 − 5 other connections = 92" (the reserved_connections
// term only when it is set).
func (l Limits) Arithmetic() string {
	s := fmt.Sprintf("max_connections %d − superuser_reserved %d", l.MaxConnections, l.SuperuserReserved)
	if l.ReservedConnections > 0 {
		s += fmt.Sprintf(" − reserved %d", l.ReservedConnections)
	}
	return s + fmt.Sprintf(" − %d other connections = %d", l.OtherConnections, l.Available())
}

// Fleet is the service at its largest: instances, the extra ones a rolling
// restart runs at once, and the processes of each (each holds a pool).
type Fleet struct {
	Instances int
	Surge     int
	Processes int // 0 means 1
}

// Pools is how many pools the fleet holds at its peak.
func (f Fleet) Pools() int { return (f.Instances + f.Surge) * max(f.Processes, 1) }

// Pooler is a connection pooler between the pools and PostgreSQL. Zero
// fields are unknown and not judged: a Pooler{} only says the pools'
// connections go to a pooler.
type Pooler struct {
	// ClientLimit is how many client connections it takes (PgBouncer's
	// max_client_conn, or the plan's pooler_max_clients).
	ClientLimit int
	// ServerConnections is the most server connections it opens to
	// PostgreSQL (its pool size, capped; see pgbouncer.ComputeBudget).
	ServerConnections int
}

// Input is everything the budget depends on.
type Input struct {
	// Limits are PostgreSQL's. Behind a pooler, OtherConnections are the
	// server connections that are not the pooler's.
	Limits  Limits
	Fleet   Fleet
	PoolMax int
	// Others are the other client connections the change leaves in place:
	// of the server, or of the pooler when Pooler is set (see Others).
	Others int
	// Pooler is nil when the pools connect to PostgreSQL directly.
	Pooler *Pooler
}

// Result is the verdict and its arithmetic.
type Result struct {
	// Capacity is max_connections − superuser_reserved − reserved.
	Capacity int `json:"capacity"`
	Others   int `json:"others"`
	// Available is what the fleet's pools may open: Capacity − Others, or
	// behind a pooler its client limit − Others (0 when unknown).
	Available int `json:"available"`
	Pools     int `json:"pools"`
	// Needed is Pools × pool max.
	Needed int `json:"needed"`
	// Judged is false behind a pooler whose limits are unknown.
	Judged bool `json:"judged"`
	// PoolsFit is true when Needed ≤ Available, or when not judged.
	PoolsFit bool `json:"pools_fit"`
	// Fits is PoolsFit, and the pooler's server side fits when known.
	Fits bool `json:"fits"`
	// Headroom is Available − Needed: negative when it does not fit (0
	// when not judged).
	Headroom int `json:"headroom"`
	// MaxFit is the largest pool max that fits (0 when none does or there
	// are no pools).
	MaxFit int `json:"max_fit"`
	// Carry is how many instances fit at the pool max with the surge ones
	// kept free.
	Carry int `json:"carry"`
	// Server is the pooler's server side, when its size is known.
	Server *ServerSide `json:"server,omitempty"`
	// Lines is the arithmetic, one sentence a line.
	Lines []string `json:"lines"`
}

// ServerSide is a pooler's server connections against PostgreSQL.
type ServerSide struct {
	Connections int  `json:"connections"`
	Available   int  `json:"available"` // Limits.Available()
	Fits        bool `json:"fits"`
}

// Others is the other-clients term both preflight and the advisor use:
// the plan's number when it sets one, else the client connections open now
// less those the changed pools hold (they are replaced, not added to).
func Others(planned, connected, heldByPools int) int {
	if planned > 0 {
		return planned
	}
	return max(connected-heldByPools, 0)
}

// Compute is the budget: (instances + surge) × processes × pool max
// against max_connections − superuser_reserved − reserved − other clients,
// or against the pooler's limits when one is in front.
func Compute(in Input) Result {
	l, f := in.Limits, in.Fleet
	r := Result{Capacity: l.Capacity(), Others: in.Others, Pools: f.Pools()}
	r.Needed = r.Pools * in.PoolMax
	switch p := in.Pooler; {
	case p == nil:
		r.Judged, r.Available = true, r.Capacity-in.Others
		r.say("%s − %s − %d other clients = %d available", l.limitTerms(), reservedTerm(l), in.Others, r.Available)
	case p.ClientLimit > 0:
		r.Judged, r.Available = true, p.ClientLimit-in.Others
		r.say("behind a pooler: client limit %d − %d other clients = %d available", p.ClientLimit, in.Others, r.Available)
	default:
		r.say("behind a pooler: its client limit is unknown, so the client side is not judged")
	}
	r.say("%s = %d needed", f.arithmetic(in.PoolMax), r.Needed)
	r.PoolsFit = !r.Judged || r.Needed <= r.Available
	r.Fits = r.PoolsFit
	if r.Judged {
		r.Headroom = r.Available - r.Needed
		if r.Pools > 0 {
			r.MaxFit = max(r.Available/r.Pools, 0)
		}
		r.Carry = Carry(r.Available, in.PoolMax*max(f.Processes, 1), f.Surge)
		r.say("%s; the largest max that fits is %d", verdict(r.Needed, r.Available), r.MaxFit)
	}
	if p := in.Pooler; p != nil && p.ServerConnections > 0 {
		s := &ServerSide{Connections: p.ServerConnections, Available: l.Available()}
		s.Fits = s.Connections <= s.Available
		r.Server, r.Judged, r.Fits = s, true, r.Fits && s.Fits
		r.say("server side: the pooler opens at most %d server connections; %s available; %s",
			s.Connections, l.Arithmetic(), verdict(s.Connections, s.Available))
	}
	return r
}

// Carry is how many instances fit in available at perInstance connections
// each, surge ones kept free.
func Carry(available, perInstance, surge int) int {
	if perInstance <= 0 {
		return 0
	}
	return max(available/perInstance-surge, 0)
}

func (r *Result) say(format string, args ...any) {
	r.Lines = append(r.Lines, fmt.Sprintf(format, args...))
}

func (l Limits) limitTerms() string {
	return fmt.Sprintf("max_connections %d − superuser_reserved %d", l.MaxConnections, l.SuperuserReserved)
}

func reservedTerm(l Limits) string { return fmt.Sprintf("reserved %d", l.ReservedConnections) }

func (f Fleet) arithmetic(poolMax int) string {
	procs := max(f.Processes, 1)
	unit := "processes"
	if procs == 1 {
		unit = "process"
	}
	return fmt.Sprintf("(%d instances + %d surge) × %d %s × max %d", f.Instances, f.Surge, procs, unit, poolMax)
}

func verdict(needed, available int) string {
	if needed > available {
		return fmt.Sprintf("%d > %d: does not fit", needed, available)
	}
	return fmt.Sprintf("%d ≤ %d: fits", needed, available)
}
