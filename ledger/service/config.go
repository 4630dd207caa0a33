package service

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/pgpool"
)

// Environment variables read by LoadConfig besides pgpool's.
const (
	EnvAddr            = "LEDGERD_ADDR"
	EnvAdminToken      = "POOLPILOT_ADMIN_TOKEN"
	EnvLogLevel        = "LEDGERD_LOG_LEVEL"
	EnvShutdownTimeout = "LEDGERD_SHUTDOWN_TIMEOUT"
)

// Defaults.
const (
	DefaultAddr            = httpapi.DefaultAddr // 127.0.0.1:8080
	DefaultShutdownTimeout = 30 * time.Second
	MaxShutdownTimeout     = 10 * time.Minute
)

// Config is ledgerd's effective configuration.
type Config struct {
	Pool       pgpool.Config
	Addr       string
	AdminToken string // "" disables /admin/*
	LogLevel   slog.Level
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests before it closes their connections.
	ShutdownTimeout time.Duration
	// AddrWarning is set when Addr is not loopback.
	AddrWarning string
}

// ConfigError lists every problem of a configuration, each naming its
// variable. ledgerd exits with status 2 on it, before opening a connection.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid configuration: " + strings.Join(e.Problems, "; ")
}

// LoadConfig reads the configuration through getenv: default, parse,
// validate; every problem is reported at once in a *ConfigError.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{Addr: DefaultAddr, ShutdownTimeout: DefaultShutdownTimeout}
	var problems []string
	pc, err := pgpool.LoadConfig(getenv)
	var pce *pgpool.ConfigError
	switch {
	case errors.As(err, &pce):
		problems = append(problems, pce.Problems...)
	case err != nil:
		problems = append(problems, err.Error())
	}
	cfg.Pool = pc
	if v := strings.TrimSpace(getenv(EnvAddr)); v != "" {
		cfg.Addr = v
	}
	if warn, err := httpapi.CheckListenAddr(cfg.Addr); err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", EnvAddr, err))
	} else {
		cfg.AddrWarning = warn
	}
	cfg.AdminToken = strings.TrimSpace(getenv(EnvAdminToken))
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not a log level: use debug, info, warn or error", EnvLogLevel, v))
		}
	}
	if v := strings.TrimSpace(getenv(EnvShutdownTimeout)); v != "" {
		d, err := pgpool.ParseMillisOrDuration(v)
		if err != nil || d <= 0 || d > MaxShutdownTimeout {
			problems = append(problems, fmt.Sprintf("%s %q is invalid: use milliseconds or a Go duration between 1ms and %s (e.g. 30s)", EnvShutdownTimeout, v, MaxShutdownTimeout))
		} else {
			cfg.ShutdownTimeout = d
		}
	}
	if len(problems) > 0 {
		return cfg, &ConfigError{Problems: problems}
	}
	return cfg, nil
}
