package evidencetest

import (
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
)

// Fixture timeline, from Start.
const (
	tApprove  = 10 * time.Second
	tBaseline = 15 * time.Second
	tApply    = 50 * time.Second
	tVerify   = 55 * time.Second
	tLoad     = 60 * time.Second
	tSoak     = 90 * time.Second
	soakLen   = 120 * time.Second
	tSpike    = tSoak + 50*time.Second // rollback scenario: latency spike
	tFire     = tSpike + 10*time.Second
)

func (b *builder) approve() {
	b.at(tApprove)
	b.to("awaiting-approval", "")
	a := evidence.SignApproval(Key, evidence.Approval{
		By: "alice", Role: "executive operator", Statement: "I approve Phase 1 execution",
		Time: b.clock.Now(), PlanSHA256: "9f2c7ab0d41e55f6a1b3c9d8e7f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b",
	})
	b.must(b.f.RecordAs("alice", a))
	b.must(b.f.WriteJSON(evidence.FileApproval, evidence.ApprovalRecord{
		Plan: Plan, PlanSHA256: a.PlanSHA256, Required: []string{"executive operator"}, Approvals: []evidence.Approval{a},
	}))
	b.clock.Advance(time.Second)
	b.to("approved", "1 of 1 required approvals")
}

func baseAgg() evidence.Aggregate {
	return evidence.Aggregate{Requests: 5970, Errors: 1, ErrorRate: 0.000168, LatencyP50MS: 12.4, LatencyP95MS: 46.8,
		LatencyP99MS: 88.1, Utilization: 0.82, WaitP95MS: 24.5}
}

func health(name string, max, min int, util, wait float64) evidence.InstanceHealth {
	return evidence.InstanceHealth{Name: name, URL: "http://127.0.0.1:808" + name[len(name)-1:] + "/healthz", Health: poolpilot.Health{
		Status: "ok", Service: "ledgerd", Time: Start.Add(tBaseline + 30*time.Second),
		Pool: poolpilot.PoolStats{Max: max, Min: min, IdleTimeoutMS: 30000, ConnectionTimeoutMS: 2000,
			Source: map[string]poolpilot.Provenance{"max": poolpilot.FromEnv, "min": poolpilot.FromEnv},
			Total:  max, Acquired: int(util * float64(max)), Idle: max - int(util*float64(max)), Utilization: util,
			WaitP50MS: wait / 4, WaitP95MS: wait, WaitP99MS: wait * 1.6, Acquires: 29850},
		Requests: &poolpilot.RequestStats{Total: 2985, Errors: 0, LatencyP50MS: 12.4, LatencyP95MS: 46.8, LatencyP99MS: 88.1, WindowSeconds: 30},
	}}
}

func (b *builder) baseline() {
	b.at(tBaseline)
	b.to("baseline", "30s window")
	b.at(tBaseline + 30*time.Second)
	now := b.clock.Now()
	b.must(b.f.WriteJSON(evidence.FilePreChangeMetrics, evidence.PreChangeMetrics{
		Time: now, WindowSeconds: 30, Fleet: baseAgg(),
		Instances: []evidence.InstanceHealth{health("ledgerd-1", 10, 2, 0.8, 23.9), health("ledgerd-2", 10, 2, 0.84, 25.1)},
		Database: &evidence.DatabaseStats{MaxConnections: 500, SuperuserReserved: 3, Connections: 23,
			ByState: map[string]int{"active": 17, "idle": 6}, ByApplication: map[string]int{"ledgerd": 20, "psql": 1, "": 2}, CPUPercent: ptr(31.5)},
	}))
	b.must(b.f.WriteJSON(evidence.FilePreChangeConfig, configSnap(now, 10, 2, 10, 2)))
	b.must(b.f.Write(evidence.FilePreChangeConnections, []byte(
		"# pg_stat_activity at "+now.Format(time.RFC3339)+"\nmax_connections 500\nsuperuser_reserved_connections 3\ntotal 23\n"+
			"state active 17\nstate idle 6\napplication ledgerd 20\napplication psql 1\napplication (none) 2\n")))
	b.must(b.f.Write(evidence.FilePreChangeErrorRate, []byte(
		"window 30s\nrequests 5970\nerrors 1\nerror_rate 0.000168 (0.0168%)\n")))
	b.must(b.f.WriteJSON(evidence.FilePreChangeLatency, evidence.LatencyReport{
		Time: now, WindowSeconds: 30, Fleet: evidence.LatencyStats{Requests: 5970, P50MS: 12.4, P95MS: 46.8, P99MS: 88.1, MaxMS: 131},
		Instances: map[string]evidence.LatencyStats{
			"ledgerd-1": {Requests: 2985, P50MS: 12.1, P95MS: 45.9, P99MS: 86.0, MaxMS: 120},
			"ledgerd-2": {Requests: 2985, P50MS: 12.7, P95MS: 47.5, P99MS: 90.2, MaxMS: 131},
		},
	}))
}

func configSnap(now time.Time, max, min, wantMax, wantMin int) evidence.ConfigSnapshot {
	s := evidence.ConfigSnapshot{Time: now, Expected: evidence.PoolSetting{Max: wantMax, Min: wantMin, IdleTimeoutMS: 30000, ConnectionTimeoutMS: 2000}}
	for _, n := range []string{"ledgerd-1", "ledgerd-2"} {
		s.Instances = append(s.Instances, evidence.InstanceConfig{Name: n, URL: "http://127.0.0.1:808" + n[len(n)-1:] + "/healthz",
			Pool:   evidence.PoolSetting{Max: max, Min: min, IdleTimeoutMS: 30000, ConnectionTimeoutMS: 2000},
			Source: map[string]poolpilot.Provenance{"max": poolpilot.FromAdmin, "min": poolpilot.FromAdmin}, Matches: max == wantMax && min == wantMin})
	}
	s.Verified = max == wantMax && min == wantMin
	return s
}

func (b *builder) apply(rollback bool) {
	from, to := [2]int{10, 2}, [2]int{200, 20}
	if rollback {
		from, to = to, from
	} else {
		b.at(tApply)
		b.to("applying", "driver admin, batch 1")
	}
	var log string
	for _, n := range []string{"ledgerd-1", "ledgerd-2"} {
		b.clock.Advance(time.Second)
		b.must(b.f.Record(evidence.Apply{Instance: n, Driver: "admin", FromMax: from[0], FromMin: from[1], ToMax: to[0], ToMin: to[1], Rollback: rollback}))
		log += fmt.Sprintf("%s %s PUT http://127.0.0.1:909%s/admin/pool Authorization: Bearer %s {\"max\":%d,\"min\":%d} -> 200 OK in 3ms\n",
			b.clock.Now().Format(time.RFC3339), n, n[len(n)-1:], AdminToken, to[0], to[1])
	}
	if rollback {
		b.must(b.f.Write(evidence.FileRestartLog, []byte("driver admin: live resize, no restart needed\n(rollback) "+log)))
		return
	}
	b.must(b.f.Write(evidence.FileDeploymentLog, []byte(log)))
	b.must(b.f.Write(evidence.FileConfigDiff, []byte(ConfigDiff)))
	b.must(b.f.Write(evidence.FileRestartLog, []byte("driver admin: live resize, no restart needed\n")))
}

// ConfigDiff is the fixture's config_diff.txt.
const ConfigDiff = `--- pre_change (every instance)
+++ post_change (every instance)
@@ pool @@
-DB_POOL_MAX=10
-DB_POOL_MIN=2
+DB_POOL_MAX=200
+DB_POOL_MIN=20
 DB_POOL_IDLE_TIMEOUT=30000
 DB_POOL_CONNECTION_TIMEOUT=2000
`

func (b *builder) verify(max, min int) {
	if max == 200 {
		b.at(tVerify)
		b.to("verifying", "")
	}
	for _, n := range []string{"ledgerd-1", "ledgerd-2"} {
		b.clock.Advance(500 * time.Millisecond)
		b.must(b.f.Record(evidence.VerifyCheck{Instance: n, Max: max, Min: min, OK: true, Detail: "/healthz"}))
	}
	if max == 200 {
		b.must(b.f.WriteJSON(evidence.FilePostChangeConfig, configSnap(b.clock.Now(), max, min, 200, 20)))
	}
}

func (b *builder) loadTest() {
	b.at(tLoad)
	b.to("load-test", "constant 400 req/s for 30s")
	res := evidence.LoadTestResults{Started: Start.Add(tLoad), Ended: Start.Add(tSoak), Target: "http://127.0.0.1:8081/v1/entries",
		Workload: "ledger", DurationSeconds: 30, TargetRate: 400, AchievedRate: 399.6, Requests: 11988, Errors: 2,
		ErrorRate: 0.000167, Late: 3, LatencyMS: evidence.LoadLatency{P50: 18.2, P95: 71.4, P99: 118.9, Max: 240.3},
		LagMS: &evidence.LoadLatency{P95: 0.4, Max: 6.1}, Pool: &evidence.LoadPool{WaitP95MS: 1.2, UtilizationMax: 0.31}, Passed: true}
	for s := 0; s < 30; s++ {
		p95 := 65 + float64((s*7)%11)
		res.Series = append(res.Series, evidence.LoadSecond{Second: s, Requests: 399 + int64(s%3), Errors: int64(boolInt(s == 12 || s == 25)),
			P50MS: 17 + float64(s%4)/2, P95MS: p95, P99MS: p95 * 1.6})
	}
	b.at(tSoak - time.Second)
	b.must(b.f.WriteJSON(evidence.FileSyntheticLoadTest, res))
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
