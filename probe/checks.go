package probe

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/contract"
	"github.com/poolpilot/poolpilot/source/health"
)

// statusCheck: every document says ok with HTTP 200 (a 503 "unavailable"
// is a valid document, but a service that cannot reach its database now
// cannot be shown conformant).
func statusCheck(polls []poll) Check {
	c := Check{ID: "status", Status: Pass, Detail: fmt.Sprintf("%d documents, status ok, HTTP 200", len(polls))}
	unread := 0
	for i, p := range polls {
		if p.code != 200 && p.code != 503 {
			c.Status = Fail
			c.Detail = fmt.Sprintf("poll %d: HTTP %d: the URL answers but serves no health document (want 200, or 503 with a document while the database is down); is it the service's /healthz?", i+1, p.code)
			return c
		}
		if p.code != 200 || p.err == nil && p.doc.Status != "ok" {
			c.Status = Fail
			c.Detail = fmt.Sprintf("poll %d: HTTP %d, status %q %s: the service must answer 200 with status ok while its database is up", i+1, p.code, p.doc.Status, p.doc.Health.Error)
			return c
		}
		if p.err != nil {
			unread++
		}
	}
	if unread > 0 {
		// HTTP 200, but no status to read: not shown ok (schema_version names why).
		c.Status, c.Detail = Skip, fmt.Sprintf("HTTP 200, but %d of %d documents do not parse: status not checked", unread, len(polls))
	}
	return c
}

// schemaCheck validates every document against contract/health.schema.json.
func schemaCheck(polls []poll) Check {
	c := Check{ID: "schema_valid", Status: Pass, Detail: "every document follows contract/health.schema.json (version " + contract.Version + ")"}
	seen := map[string]bool{}
	var problems []string
	for _, p := range polls {
		err := contract.Health().Validate(p.body)
		var ve *contract.ValidationError
		switch {
		case errors.As(err, &ve):
			for _, pr := range ve.Problems {
				if !seen[pr] {
					seen[pr] = true
					problems = append(problems, pr)
				}
			}
		case err != nil && !seen[err.Error()]:
			seen[err.Error()] = true
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		c.Status = Fail
		c.Detail = "the document does not follow contract/health.schema.json: " + strings.Join(problems, "; ")
	}
	return c
}

// versionCheck: the document parses with poolpilot's own reader and
// carries a schema version of major 1.
func versionCheck(polls []poll) Check {
	c := Check{ID: "schema_version", Status: Pass}
	for i, p := range polls {
		if p.err != nil {
			c.Status, c.Detail = Fail, fmt.Sprintf("poll %d: poolpilot cannot read the document: %v", i+1, p.err)
			return c
		}
	}
	d := polls[len(polls)-1].doc
	if !d.Has("schema") {
		c.Status, c.Detail = Fail, fmt.Sprintf("the document has no schema field: add \"schema\": %q", contract.Version)
		return c
	}
	c.Detail = "schema " + d.Schema
	return c
}

// invariantCheck: 0 ≤ utilization ≤ 1, total ≤ max, acquired ≤ total in
// every document, and total ≥ min in at least the last one (a pool that
// reports min but never holds it is not verified by its config).
func invariantCheck(polls []poll) Check {
	c := Check{ID: "figures_consistent", Status: Pass, Detail: "0 ≤ utilization ≤ 1, acquired ≤ total ≤ max, total ≥ min"}
	var bad []string
	read := 0
	for i, p := range polls {
		if p.err != nil {
			continue
		}
		read++
		pl := p.doc.Pool
		if pl.Utilization < 0 || pl.Utilization > 1 {
			bad = append(bad, fmt.Sprintf("poll %d: pool.utilization %v outside 0–1", i+1, pl.Utilization))
		}
		if pl.Total > pl.Max {
			bad = append(bad, fmt.Sprintf("poll %d: pool.total %d > pool.max %d", i+1, pl.Total, pl.Max))
		}
		if p.doc.Has(poolpilot.MetricPoolAcquired) && pl.Acquired > pl.Total {
			bad = append(bad, fmt.Sprintf("poll %d: pool.acquired %d > pool.total %d", i+1, pl.Acquired, pl.Total))
		}
	}
	if last := polls[len(polls)-1]; last.err == nil && last.doc.Has(poolpilot.MetricPoolTotal) && last.doc.Pool.Total < last.doc.Pool.Min {
		bad = append(bad, fmt.Sprintf("pool.total %d < pool.min %d: the pool does not hold the connections it reports as its minimum", last.doc.Pool.Total, last.doc.Pool.Min))
	}
	if len(bad) > 0 {
		c.Status, c.Detail = Fail, strings.Join(bad, "; ")
	} else if read == 0 {
		c.Status, c.Detail = Skip, "no document parses: the figures are not checked"
	}
	return c
}

// movementCheck: counters never go down between polls, and acquires grew
// while the probe sent load; requests.total not growing is a warning (the
// service may not count the paths the probe loads).
//
// dbLoad says whether the load used the database for sure (--load-url):
// without it a counter that does not move is a warning, since GETs to /
// and to the health URL need not acquire a connection.
func movementCheck(polls []poll, loaded, dbLoad bool) Check {
	c := Check{ID: "figures_move", Status: Pass}
	var ok []poll
	for _, p := range polls {
		if p.err == nil {
			ok = append(ok, p)
		}
	}
	if len(ok) < 2 {
		c.Status, c.Detail = Fail, "fewer than two readable documents: cannot tell whether the figures move"
		return c
	}
	first, last := ok[0].doc, ok[len(ok)-1].doc
	var bad []string
	for i := 1; i < len(ok); i++ {
		a, b := ok[i-1].doc.Pool, ok[i].doc.Pool
		for name, v := range map[string][2]int64{"acquires": {a.Acquires, b.Acquires}, "opened": {a.Opened, b.Opened}, "closed": {a.Closed, b.Closed}, "acquire_timeouts": {a.AcquireTimeouts, b.AcquireTimeouts}} {
			if v[1] < v[0] {
				bad = append(bad, fmt.Sprintf("pool.%s went down from %d to %d: it must be a counter", name, v[0], v[1]))
			}
		}
	}
	grew := last.Pool.Acquires - first.Pool.Acquires
	switch {
	case !last.Has("pool.acquires"):
		bad = append(bad, "pool.acquires absent: cannot tell whether the pool is used")
	case dbLoad && grew <= 0:
		bad = append(bad, fmt.Sprintf("pool.acquires stayed at %d while the probe loaded --load-url: it must count every acquire", last.Pool.Acquires))
	}
	sort.Strings(bad)
	c.Detail = fmt.Sprintf("pool.acquires %d → %d", first.Pool.Acquires, last.Pool.Acquires)
	if first.Requests != nil && last.Requests != nil {
		c.Detail += fmt.Sprintf(", requests.total %d → %d", first.Requests.Total, last.Requests.Total)
		if loaded && last.Requests.Total <= first.Requests.Total {
			c.Status = Warn
			c.Detail += ": requests.total did not grow while the probe sent requests (does the service count every request?)"
		}
	}
	if loaded && !dbLoad && grew <= 0 {
		c.Status = Warn
		c.Detail += ": pool.acquires did not grow, but the probe's GETs to / and the health URL need not use the database: give --load-url a path that does"
	}
	if len(bad) > 0 {
		c.Status, c.Detail = Fail, strings.Join(bad, "; ")
	}
	return c
}

// feedCheck names every criterion of the health document that the service
// cannot feed.
func feedCheck(feeds []health.Feed) Check {
	c := Check{ID: "criteria_fed", Status: Pass}
	var bad []string
	n := 0
	for _, f := range feeds {
		if f.Source != health.Name {
			continue
		}
		n++
		if f.Status != health.FeedOK {
			bad = append(bad, fmt.Sprintf("criterion %s: %s", f.Criterion, f.Detail))
		}
	}
	c.Detail = fmt.Sprintf("the document feeds all %d criteria of the default plan read from /healthz", n)
	if len(bad) > 0 {
		c.Status, c.Detail = Fail, strings.Join(bad, "; ")
	}
	return c
}
