package plan

import (
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot"
)

// MaxPoolSize is the largest pool max a plan may ask for.
const MaxPoolSize = 10000

// Defaults applied to fields a plan leaves out.
const (
	DefaultEvidenceDir     = "launch/evidence"
	DefaultBatchSize       = 1
	DefaultVerifyTimeout   = 60 * time.Second
	DefaultBaseline        = 60 * time.Second
	DefaultInterval        = time.Second
	DefaultMaxInconclusive = 60 * time.Second // or a tenth of the soak, whichever is smaller
	DefaultMinCoverage     = 0.9
	DefaultRollbackMonitor = 15 * time.Minute // at most; capped at the soak's duration
	DefaultBackupMaxAge    = 24 * time.Hour
	DefaultDSNEnv          = "DATABASE_URL"
)

// applyDefaults fills the fields a plan leaves out. A number or duration
// the plan gives explicitly (src) is left as it is, even 0, for validation
// to refuse: absent is a default, an explicit zero is a mistake.
func (p *Plan) applyDefaults(src *source) {
	setDur := func(path string, d *poolpilot.Duration, v time.Duration) {
		if *d == 0 && !src.has(path) {
			*d = poolpilot.Duration(v)
		}
	}
	if p.Driver == "" {
		p.Driver = DriverAdmin
	}
	if p.Database.DSNEnv == "" {
		p.Database.DSNEnv = DefaultDSNEnv
	}
	if p.Rollout.BatchSize == 0 && !src.has("$.rollout.batch_size") {
		p.Rollout.BatchSize = DefaultBatchSize
	}
	setDur("$.rollout.verify_timeout", &p.Rollout.VerifyTimeout, DefaultVerifyTimeout)
	if p.Window.Timezone == "" && p.Window.Start != "" {
		p.Window.Timezone = "UTC"
	}
	if p.Backup.Check == "" {
		p.Backup.Check = "pg_stat_archiver"
	}
	setDur("$.backup.max_age", &p.Backup.MaxAge, DefaultBackupMaxAge)
	setDur("$.baseline.duration", &p.Baseline.Duration, DefaultBaseline)
	if p.LoadTest.Workload == "" {
		p.LoadTest.Workload = "none"
	}
	setDur("$.evaluation.interval", &p.Evaluation.Interval, DefaultInterval)
	setDur("$.evaluation.max_inconclusive", &p.Evaluation.MaxInconclusive, defaultMaxInconclusive(p.Soak.Duration.D()))
	if p.Evaluation.MinCoverage == 0 && !src.has("$.evaluation.min_coverage") {
		p.Evaluation.MinCoverage = DefaultMinCoverage
	}
	if p.RollbackPolicy.Monitor == nil {
		d := poolpilot.Duration(defaultRollbackMonitor(p.Soak.Duration.D()))
		p.RollbackPolicy.Monitor = &d
	}
	p.applyStepDefaults(src)
	if p.Evidence.Dir == "" {
		p.Evidence.Dir = DefaultEvidenceDir
	}
	for i := range p.Instances {
		if p.Instances[i].Processes == 0 && !src.has(fmt.Sprintf("$.instances[%d].processes", i)) {
			p.Instances[i].Processes = 1
		}
	}
	for i := range p.Criteria {
		c := &p.Criteria[i]
		if c.Scope == "" {
			c.Scope = poolpilot.ScopeInstance
		}
	}
}

// defaultMaxInconclusive is the smaller of DefaultMaxInconclusive and a
// tenth of the soak (DefaultMaxInconclusive without a valid soak).
func defaultMaxInconclusive(soak time.Duration) time.Duration {
	if soak <= 0 {
		return DefaultMaxInconclusive
	}
	return min(DefaultMaxInconclusive, soak/10)
}

// defaultRollbackMonitor is DefaultRollbackMonitor capped at the soak.
func defaultRollbackMonitor(soak time.Duration) time.Duration {
	if soak <= 0 {
		return DefaultRollbackMonitor
	}
	return min(DefaultRollbackMonitor, soak)
}

// RollbackMonitor is how long the criteria are watched again after a
// rollback (rollback.monitor); 0 means not at all. A plan that did not come
// from Parse gets the default: 15m capped at the soak's duration.
func (p *Plan) RollbackMonitor() time.Duration {
	if p.RollbackPolicy.Monitor == nil {
		return defaultRollbackMonitor(p.Soak.Duration.D())
	}
	return max(0, p.RollbackPolicy.Monitor.D())
}
