package pgpool

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

const goodURL = "postgres://app:s3cr3t-pw@127.0.0.1:5432/ledger?sslmode=disable"

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: goodURL}))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPoolConfig()
	if cfg.Max != 200 || cfg.Min != 20 || cfg.IdleTimeout != 30*time.Second || cfg.ConnectTimeout != 2*time.Second ||
		cfg.MaxLifetime != time.Hour || cfg.HealthCheckPeriod != time.Minute || cfg.Pooler != "" {
		t.Fatalf("defaults: got %+v", cfg.PoolConfig)
	}
	for k, v := range want.Source {
		if cfg.Source[k] != poolpilot.FromDefault {
			t.Errorf("source[%s] = %q, want %q", k, cfg.Source[k], v)
		}
	}
	if cfg.DatabaseURL != goodURL {
		t.Errorf("DatabaseURL = %q", cfg.DatabaseURL)
	}
}

func TestLoadConfigFromEnv(t *testing.T) {
	cfg, err := LoadConfig(envOf(map[string]string{
		EnvDatabaseURL: goodURL, EnvMax: "50", EnvMin: " 5 ", EnvIdleTimeout: "10000",
		EnvConnectionTimeout: "1.5s", EnvMaxLifetime: "30m", EnvHealthCheckPeriod: "15000", EnvPooler: "transaction",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Max != 50 || cfg.Min != 5 || cfg.IdleTimeout != 10*time.Second || cfg.ConnectTimeout != 1500*time.Millisecond ||
		cfg.MaxLifetime != 30*time.Minute || cfg.HealthCheckPeriod != 15*time.Second || cfg.Pooler != PoolerTransaction {
		t.Fatalf("got %+v", cfg.PoolConfig)
	}
	for _, k := range []string{KeyMax, KeyMin, KeyIdleTimeout, KeyConnectionTimeout, KeyMaxLifetime, KeyHealthCheckPeriod, KeyPooler} {
		if cfg.Source[k] != poolpilot.FromEnv {
			t.Errorf("source[%s] = %q, want env", k, cfg.Source[k])
		}
	}
}

func TestLoadConfigDetectsPooler(t *testing.T) {
	for _, u := range []string{
		"postgres://u:p@ep-cool-name-123-pooler.eu-central-1.aws.neon.tech/db",
		"postgres://u@10.0.0.1:6432/db",
	} {
		cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: u}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Pooler != PoolerTransaction || cfg.Source[KeyPooler] != poolpilot.FromDetected {
			t.Errorf("%s: pooler %q from %q, want transaction detected", Redact(u), cfg.Pooler, cfg.Source[KeyPooler])
		}
	}
	cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: "postgres://u@h:6432/db", EnvPooler: "session"}))
	if err != nil || cfg.Pooler != PoolerSession {
		t.Fatalf("explicit session must win over detection: %v %q", err, cfg.Pooler)
	}
}

func TestLoadConfigBadInputs(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"empty url", map[string]string{EnvDatabaseURL: ""}, []string{"DATABASE_URL is empty"}},
		{"blank url", map[string]string{EnvDatabaseURL: "   "}, []string{"DATABASE_URL is empty"}},
		{"bad scheme", map[string]string{EnvDatabaseURL: "mysql://u:hunter2@h/db"}, []string{`DATABASE_URL (mysql://u:[REDACTED]@h/db) has scheme "mysql"`}},
		{"unparsable url", map[string]string{EnvDatabaseURL: "postgres://u:hunter2@h:notaport/db"}, []string{"DATABASE_URL (postgres://u:[REDACTED]@h:notaport/db)"}},
		{"bad kv dsn", map[string]string{EnvDatabaseURL: "host=h password=hunter2 port=abc"}, []string{"DATABASE_URL (host=h password=[REDACTED] port=abc) cannot be parsed"}},
		{"max not a number", map[string]string{EnvMax: "abc"}, []string{"DB_POOL_MAX (abc) is not a whole number"}},
		{"max float", map[string]string{EnvMax: "20.5"}, []string{"DB_POOL_MAX (20.5) is not a whole number"}},
		{"max negative", map[string]string{EnvMax: "-5"}, []string{"DB_POOL_MAX (-5) must not be negative"}},
		{"max zero", map[string]string{EnvMax: "0", EnvMin: "0"}, []string{"DB_POOL_MAX (0) must be at least 1"}},
		{"max absurd", map[string]string{EnvMax: "20000"}, []string{"DB_POOL_MAX (20000) is absurd: at most 10000"}},
		{"max overflow", map[string]string{EnvMax: "99999999999999999999999"}, []string{"DB_POOL_MAX (99999999999999999999999) is out of range"}},
		{"max blank", map[string]string{EnvMax: "  "}, []string{`DB_POOL_MAX ("  ") is not a whole number`}},
		{"min not a number", map[string]string{EnvMin: "ten"}, []string{"DB_POOL_MIN (ten) is not a whole number"}},
		{"min negative", map[string]string{EnvMin: "-1"}, []string{"DB_POOL_MIN (-1) must not be negative"}},
		{"min over max", map[string]string{EnvMin: "300"}, []string{"DB_POOL_MIN (300) must not exceed DB_POOL_MAX (200)"}},
		{"min over explicit max", map[string]string{EnvMax: "10", EnvMin: "11"}, []string{"DB_POOL_MIN (11) must not exceed DB_POOL_MAX (10)"}},
		{"idle not a duration", map[string]string{EnvIdleTimeout: "soon"}, []string{"DB_POOL_IDLE_TIMEOUT (soon) is not a duration"}},
		{"idle negative ms", map[string]string{EnvIdleTimeout: "-1000"}, []string{"DB_POOL_IDLE_TIMEOUT (-1000ms) must not be negative"}},
		{"idle negative dur", map[string]string{EnvIdleTimeout: "-30s"}, []string{"DB_POOL_IDLE_TIMEOUT (-30000ms) must not be negative"}},
		{"idle zero", map[string]string{EnvIdleTimeout: "0"}, []string{"DB_POOL_IDLE_TIMEOUT (0) must be positive"}},
		{"idle absurdly short", map[string]string{EnvIdleTimeout: "5"}, []string{"DB_POOL_IDLE_TIMEOUT (5ms) is absurdly short"}},
		{"idle >= lifetime", map[string]string{EnvIdleTimeout: "2h"}, []string{"DB_POOL_IDLE_TIMEOUT (7200000ms) must be shorter than DB_POOL_MAX_LIFETIME (3600000ms)"}},
		{"idle == lifetime", map[string]string{EnvIdleTimeout: "60000", EnvMaxLifetime: "1m"}, []string{"DB_POOL_IDLE_TIMEOUT (60000ms) must be shorter than DB_POOL_MAX_LIFETIME (60000ms)"}},
		{"conn timeout zero", map[string]string{EnvConnectionTimeout: "0s"}, []string{"DB_POOL_CONNECTION_TIMEOUT (0) must be positive"}},
		{"conn timeout absurd", map[string]string{EnvConnectionTimeout: "1h"}, []string{"DB_POOL_CONNECTION_TIMEOUT (3600000ms) is absurdly long"}},
		{"conn timeout unit typo", map[string]string{EnvConnectionTimeout: "2 sec"}, []string{`DB_POOL_CONNECTION_TIMEOUT (2 sec) is not a duration`}},
		{"conn timeout ms overflow", map[string]string{EnvConnectionTimeout: "99999999999999999"}, []string{"DB_POOL_CONNECTION_TIMEOUT (99999999999999999) is out of range"}},
		{"lifetime absurd", map[string]string{EnvMaxLifetime: "8760h"}, []string{"DB_POOL_MAX_LIFETIME (31536000000ms) is absurdly long"}},
		{"health zero", map[string]string{EnvHealthCheckPeriod: "0"}, []string{"DB_POOL_HEALTH_CHECK_PERIOD (0) must be positive"}},
		{"pooler unknown", map[string]string{EnvPooler: "statement"}, []string{`DB_POOL_POOLER ("statement") must be "transaction", "session" or empty`}},
		{"all at once", map[string]string{EnvDatabaseURL: "", EnvMax: "x", EnvMin: "-2", EnvIdleTimeout: "y"}, []string{
			"DATABASE_URL is empty", "DB_POOL_MAX (x) is not a whole number", "DB_POOL_MIN (-2) must not be negative",
			"DB_POOL_IDLE_TIMEOUT (y) is not a duration"}},
	}
	if len(cases) < 20 {
		t.Fatalf("want at least 20 bad inputs, have %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{EnvDatabaseURL: goodURL}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := LoadConfig(envOf(env))
			if err == nil {
				t.Fatal("LoadConfig accepted bad input")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ConfigError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nmissing %q", err, w)
				}
			}
			if len(ce.Problems) != len(tc.want) {
				t.Errorf("got %d problems %q, want %d", len(ce.Problems), ce.Problems, len(tc.want))
			}
			for _, pw := range []string{"s3cr3t-pw", "hunter2"} {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("error leaks the password: %q", err)
				}
			}
		})
	}
}

func TestValidateNamesFields(t *testing.T) {
	c := DefaultPoolConfig()
	c.Max, c.Min = 10, 20
	err := Validate(c)
	if err == nil || !strings.Contains(err.Error(), "min (20) must not exceed max (10)") {
		t.Fatalf("Validate: %v", err)
	}
	if err := ValidateSize(0, 0); err == nil || !strings.Contains(err.Error(), "max (0) must be at least 1") {
		t.Fatalf("ValidateSize: %v", err)
	}
	if err := Validate(DefaultPoolConfig()); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

// FuzzLoadConfig feeds arbitrary env values: LoadConfig must never panic,
// must return either a valid config or a ConfigError, and must never echo
// the URL's password.
func FuzzLoadConfig(f *testing.F) {
	f.Add("postgres://u:pw-secret@h:5432/db", "200", "20", "30000", "2000", "1h", "1m", "")
	f.Add("host=h password=pw-secret", "0", "-1", "30s", "0", "x", "", "transaction")
	f.Add("", "abc", "300", "-5s", "99999999999999999999", "", "", "bogus")
	f.Fuzz(func(t *testing.T, url, max, min, idle, conn, life, health, pooler string) {
		env := map[string]string{EnvDatabaseURL: url, EnvMax: max, EnvMin: min, EnvIdleTimeout: idle,
			EnvConnectionTimeout: conn, EnvMaxLifetime: life, EnvHealthCheckPeriod: health, EnvPooler: pooler}
		cfg, err := LoadConfig(envOf(env))
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error %v is not a non-empty ConfigError", err)
			}
			if pw := passwordOf(url); len(pw) >= 4 && strings.Contains(err.Error(), pw) {
				// The text may contain pw legitimately only where it comes from
				// elsewhere: the redacted URL or the other variables' messages.
				env[EnvDatabaseURL] = ""
				_, other := LoadConfig(envOf(env))
				if !strings.Contains(Redact(url)+other.Error()+max+min+idle+conn+life+health+pooler, pw) {
					t.Fatalf("error leaks password %q: %v", pw, err)
				}
			}
			return
		}
		if err := Validate(cfg.PoolConfig); err != nil {
			t.Fatalf("LoadConfig accepted a config Validate refuses: %v", err)
		}
		if cfg.Max < 1 || cfg.Max > MaxPoolMax || cfg.Min < 0 || cfg.Min > cfg.Max || cfg.IdleTimeout >= cfg.MaxLifetime {
			t.Fatalf("accepted invalid config %+v", cfg.PoolConfig)
		}
	})
}
