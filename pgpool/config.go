package pgpool

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/redact"
)

// Environment variables read by LoadConfig.
const (
	EnvDatabaseURL       = "DATABASE_URL"
	EnvMax               = "DB_POOL_MAX"
	EnvMin               = "DB_POOL_MIN"
	EnvIdleTimeout       = "DB_POOL_IDLE_TIMEOUT"
	EnvConnectionTimeout = "DB_POOL_CONNECTION_TIMEOUT"
	EnvMaxLifetime       = "DB_POOL_MAX_LIFETIME"
	EnvHealthCheckPeriod = "DB_POOL_HEALTH_CHECK_PERIOD"
	EnvPooler            = "DB_POOL_POOLER"
)

// Defaults of the env contract (the seed's values for max, min and timeouts).
const (
	DefaultMax               = 200
	DefaultMin               = 20
	DefaultIdleTimeout       = 30 * time.Second
	DefaultConnectTimeout    = 2 * time.Second
	DefaultMaxLifetime       = time.Hour
	DefaultHealthCheckPeriod = time.Minute
)

// Limits beyond which a value is refused as absurd.
const (
	MaxPoolMax = 10000

	minIdleTimeout    = 100 * time.Millisecond
	maxIdleTimeout    = 24 * time.Hour
	minConnectTimeout = 10 * time.Millisecond
	maxConnectTimeout = 10 * time.Minute
	minMaxLifetime    = time.Second
	maxMaxLifetime    = 30 * 24 * time.Hour
	minHealthCheck    = 100 * time.Millisecond
	maxHealthCheck    = 24 * time.Hour
)

// Pooler modes.
const (
	PoolerNone        = ""
	PoolerTransaction = "transaction"
	PoolerSession     = "session"
)

// JSON names of the settings, the keys of PoolConfig.Source.
const (
	KeyMax               = "max"
	KeyMin               = "min"
	KeyIdleTimeout       = "idle_timeout_ms"
	KeyConnectionTimeout = "connection_timeout_ms"
	KeyMaxLifetime       = "max_lifetime_ms"
	KeyHealthCheckPeriod = "health_check_period_ms"
	KeyPooler            = "pooler"
)

// ConfigError lists every problem found in a configuration; LoadConfig and
// Validate report them all at once.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid pool configuration: " + e.Problems[0]
	}
	return "invalid pool configuration: " + strings.Join(e.Problems, "; ")
}

func (e *ConfigError) add(format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

func (e *ConfigError) orNil() error {
	if e == nil || len(e.Problems) == 0 {
		return nil
	}
	return e
}

// names are how a check calls the settings: env variable names for
// LoadConfig, JSON field names for Validate.
type names struct{ max, min, idle, conn, life, health, pooler string }

var envNames = names{EnvMax, EnvMin, EnvIdleTimeout, EnvConnectionTimeout, EnvMaxLifetime, EnvHealthCheckPeriod, EnvPooler}
var fieldNames = names{KeyMax, KeyMin, KeyIdleTimeout, KeyConnectionTimeout, KeyMaxLifetime, KeyHealthCheckPeriod, KeyPooler}

// LoadConfig reads the pool configuration from the environment through
// getenv: default, then parse, then validate. An empty variable counts as
// unset. Every problem is reported in one *ConfigError; no value is clamped.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{PoolConfig: DefaultPoolConfig()}
	errs := &ConfigError{}
	cfg.DatabaseURL = getenv(EnvDatabaseURL)
	if strings.TrimSpace(cfg.DatabaseURL) == "" {
		errs.add("%s is empty: set it to the PostgreSQL connection URL, e.g. postgres://user@host:5432/db", EnvDatabaseURL)
	} else if msg := checkURL(cfg.DatabaseURL); msg != "" {
		errs.add("%s", msg)
	}
	okMax := envInt(getenv, EnvMax, KeyMax, &cfg.Max, cfg.Source, errs)
	okMin := envInt(getenv, EnvMin, KeyMin, &cfg.Min, cfg.Source, errs)
	okIdle := envDuration(getenv, EnvIdleTimeout, KeyIdleTimeout, &cfg.IdleTimeout, cfg.Source, errs)
	okConn := envDuration(getenv, EnvConnectionTimeout, KeyConnectionTimeout, &cfg.ConnectTimeout, cfg.Source, errs)
	okLife := envDuration(getenv, EnvMaxLifetime, KeyMaxLifetime, &cfg.MaxLifetime, cfg.Source, errs)
	okHealth := envDuration(getenv, EnvHealthCheckPeriod, KeyHealthCheckPeriod, &cfg.HealthCheckPeriod, cfg.Source, errs)
	if v := getenv(EnvPooler); v != "" {
		cfg.Pooler = strings.TrimSpace(v)
		cfg.Source[KeyPooler] = poolpilot.FromEnv
	} else if mode := detectPooler(cfg.DatabaseURL); mode != "" {
		cfg.Pooler = mode
		cfg.Source[KeyPooler] = poolpilot.FromDetected
	}
	parsed := parsedSet{max: okMax, min: okMin, idle: okIdle, conn: okConn, life: okLife, health: okHealth}
	check(cfg.PoolConfig, envNames, parsed, errs)
	if err := errs.orNil(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// DefaultPoolConfig returns the defaults of the env contract, each with
// provenance "default".
func DefaultPoolConfig() poolpilot.PoolConfig {
	return poolpilot.PoolConfig{
		Max: DefaultMax, Min: DefaultMin,
		IdleTimeout: DefaultIdleTimeout, ConnectTimeout: DefaultConnectTimeout,
		MaxLifetime: DefaultMaxLifetime, HealthCheckPeriod: DefaultHealthCheckPeriod,
		Source: map[string]poolpilot.Provenance{
			KeyMax: poolpilot.FromDefault, KeyMin: poolpilot.FromDefault,
			KeyIdleTimeout: poolpilot.FromDefault, KeyConnectionTimeout: poolpilot.FromDefault,
			KeyMaxLifetime: poolpilot.FromDefault, KeyHealthCheckPeriod: poolpilot.FromDefault,
			KeyPooler: poolpilot.FromDefault,
		},
	}
}

// Validate checks an effective configuration (for example one changed
// through the admin API) with the same rules as LoadConfig; problems name
// the JSON fields (max, min, idle_timeout_ms, …).
func Validate(c poolpilot.PoolConfig) error {
	errs := &ConfigError{}
	check(c, fieldNames, parsedSet{true, true, true, true, true, true}, errs)
	return errs.orNil()
}

// ValidateSize checks a new max/min pair as Resize does.
func ValidateSize(max, min int) error {
	errs := &ConfigError{}
	checkSize(max, min, fieldNames, true, true, errs)
	return errs.orNil()
}

type parsedSet struct{ max, min, idle, conn, life, health bool }

func check(c poolpilot.PoolConfig, n names, ok parsedSet, errs *ConfigError) {
	checkSize(c.Max, c.Min, n, ok.max, ok.min, errs)
	if ok.idle {
		checkRange(n.idle, c.IdleTimeout, minIdleTimeout, maxIdleTimeout, errs)
	}
	if ok.conn {
		checkRange(n.conn, c.ConnectTimeout, minConnectTimeout, maxConnectTimeout, errs)
	}
	if ok.life {
		checkRange(n.life, c.MaxLifetime, minMaxLifetime, maxMaxLifetime, errs)
	}
	if ok.health {
		checkRange(n.health, c.HealthCheckPeriod, minHealthCheck, maxHealthCheck, errs)
	}
	if ok.idle && ok.life && c.IdleTimeout > 0 && c.IdleTimeout >= c.MaxLifetime {
		errs.add("%s (%s) must be shorter than %s (%s): an idle connection would outlive its maximum lifetime",
			n.idle, fmtDur(c.IdleTimeout), n.life, fmtDur(c.MaxLifetime))
	}
	switch c.Pooler {
	case PoolerNone, PoolerTransaction, PoolerSession:
	default:
		errs.add("%s (%q) must be %q, %q or empty (direct connection)", n.pooler, c.Pooler, PoolerTransaction, PoolerSession)
	}
}

func checkSize(max, min int, n names, okMax, okMin bool, errs *ConfigError) {
	if okMax {
		switch {
		case max < 0:
			errs.add("%s (%d) must not be negative: set the largest number of connections, e.g. %d", n.max, max, DefaultMax)
		case max == 0:
			errs.add("%s (0) must be at least 1: a pool of zero connections cannot serve a query", n.max)
		case max > MaxPoolMax:
			errs.add("%s (%d) is absurd: at most %d connections per pool", n.max, max, MaxPoolMax)
		}
	}
	if okMin && min < 0 {
		errs.add("%s (%d) must not be negative: use 0 to keep no idle connections", n.min, min)
	}
	if okMax && okMin && max > 0 && min > max {
		errs.add("%s (%d) must not exceed %s (%d)", n.min, min, n.max, max)
	}
}

func checkRange(name string, d, lo, hi time.Duration, errs *ConfigError) {
	switch {
	case d < 0:
		errs.add("%s (%s) must not be negative", name, fmtDur(d))
	case d == 0:
		errs.add("%s (0) must be positive: at least %s", name, fmtDur(lo))
	case d < lo:
		errs.add("%s (%s) is absurdly short: at least %s", name, fmtDur(d), fmtDur(lo))
	case d > hi:
		errs.add("%s (%s) is absurdly long: at most %s", name, fmtDur(d), fmtDur(hi))
	}
}

// fmtDur prints a duration in the env contract's unit, milliseconds, with
// the Go form beside it when that reads better.
func fmtDur(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return d.String()
}

func envInt(getenv func(string) string, env, key string, dst *int, src map[string]poolpilot.Provenance, errs *ConfigError) bool {
	raw := getenv(env)
	if raw == "" {
		return true
	}
	src[key] = poolpilot.FromEnv
	s := strings.TrimSpace(raw)
	v, err := strconv.Atoi(s)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			errs.add("%s (%s) is out of range: at most %d", env, quoteIfOdd(raw), MaxPoolMax)
		} else {
			errs.add("%s (%s) is not a whole number: write a count such as %d", env, quoteIfOdd(raw), DefaultMax)
		}
		return false
	}
	*dst = v
	return true
}

func envDuration(getenv func(string) string, env, key string, dst *time.Duration, src map[string]poolpilot.Provenance, errs *ConfigError) bool {
	raw := getenv(env)
	if raw == "" {
		return true
	}
	src[key] = poolpilot.FromEnv
	d, err := ParseMillisOrDuration(raw)
	if err != nil {
		errs.add("%s (%s) %v", env, quoteIfOdd(raw), err)
		return false
	}
	*dst = d
	return true
}

// ParseMillisOrDuration reads plain milliseconds ("30000", as in the seed)
// or a Go duration ("30s", "1m30s").
func ParseMillisOrDuration(raw string) (time.Duration, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, errors.New("is blank: write milliseconds (30000) or a Go duration (30s)")
	}
	digits := strings.TrimLeft(s, "+-")
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
			return 0, errors.New("is out of range: write milliseconds (30000) or a Go duration (30s)")
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("is not a duration: write milliseconds (30000) or a Go duration (30s)")
	}
	return d, nil
}

// quoteIfOdd quotes a raw value that holds spaces or control characters so
// that the message shows exactly what was set.
func quoteIfOdd(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' }) {
		return strconv.Quote(s)
	}
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return s
}

// checkURL returns a problem with a DATABASE_URL, or "". The message shows
// the URL with its password redacted, never the password.
func checkURL(raw string) string {
	s := strings.TrimSpace(raw)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Sprintf("%s (%s) is not a valid URL: write postgres://user:password@host:5432/dbname", EnvDatabaseURL, Redact(raw))
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return fmt.Sprintf("%s (%s) has scheme %q: want postgres:// or postgresql://", EnvDatabaseURL, Redact(raw), u.Scheme)
		}
	}
	if _, err := pgconn.ParseConfig(s); err != nil {
		return fmt.Sprintf("%s (%s) cannot be parsed: %s", EnvDatabaseURL, Redact(raw), parseReason(err, raw))
	}
	return ""
}

// parseReason extracts pgconn's reason without the connection string it
// quotes, and scrubs anything that looks like a password.
func parseReason(err error, raw string) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+3:]
	}
	return Redact(redact.Secrets(msg, passwordOf(raw)))
}

// detectPooler guesses a transaction-mode pooler from the URL: a Neon
// pooled host ("-pooler" in the host name) or PgBouncer's default port 6432.
func detectPooler(dsn string) string {
	if strings.TrimSpace(dsn) == "" {
		return ""
	}
	cfg, err := pgconn.ParseConfig(strings.TrimSpace(dsn))
	if err != nil {
		return ""
	}
	if strings.Contains(cfg.Host, "-pooler") {
		return PoolerTransaction
	}
	if cfg.Port == 6432 {
		return PoolerTransaction
	}
	for _, fb := range cfg.Fallbacks {
		if strings.Contains(fb.Host, "-pooler") || fb.Port == 6432 {
			return PoolerTransaction
		}
	}
	return ""
}
