package pgbouncer

import (
	"context"
	"fmt"
	"strconv"
)

// Config is what the budget needs from SHOW CONFIG.
type Config struct {
	PoolMode           string `json:"pool_mode"`
	DefaultPoolSize    int    `json:"default_pool_size"`
	MinPoolSize        int    `json:"min_pool_size"`
	ReservePoolSize    int    `json:"reserve_pool_size"`
	MaxClientConn      int    `json:"max_client_conn"`
	MaxDBConnections   int    `json:"max_db_connections"`   // 0: unlimited
	MaxUserConnections int    `json:"max_user_connections"` // 0: unlimited
	// Raw is every setting as PgBouncer printed it.
	Raw map[string]string `json:"-"`
}

// Config reads SHOW CONFIG.
func (c *Console) Config(ctx context.Context) (Config, error) {
	rows, err := c.Show(ctx, "CONFIG")
	if err != nil {
		return Config{}, err
	}
	raw := map[string]string{}
	for _, r := range rows {
		raw[r["key"]] = r["value"]
	}
	cfg := Config{PoolMode: raw["pool_mode"], Raw: raw}
	for key, dst := range map[string]*int{
		"default_pool_size": &cfg.DefaultPoolSize, "min_pool_size": &cfg.MinPoolSize,
		"reserve_pool_size": &cfg.ReservePoolSize, "max_client_conn": &cfg.MaxClientConn,
		"max_db_connections": &cfg.MaxDBConnections, "max_user_connections": &cfg.MaxUserConnections,
	} {
		if *dst, err = atoi(raw, key); err != nil {
			return Config{}, fmt.Errorf("SHOW CONFIG: %w", err)
		}
	}
	if cfg.PoolMode == "" || raw["max_client_conn"] == "" {
		return Config{}, fmt.Errorf("SHOW CONFIG: no pool_mode or max_client_conn: is this PgBouncer's admin console?")
	}
	return cfg, nil
}

// Pool is one row of SHOW POOLS: a (database, user) pair.
type Pool struct {
	Database  string `json:"database"`
	User      string `json:"user"`
	ClActive  int    `json:"cl_active"`
	ClWaiting int    `json:"cl_waiting"`
	SvActive  int    `json:"sv_active"`
	SvIdle    int    `json:"sv_idle"`
	SvUsed    int    `json:"sv_used"`
	SvTested  int    `json:"sv_tested"`
	SvLogin   int    `json:"sv_login"`
	// MaxWait is how long the oldest waiting client has waited, in seconds.
	MaxWait  float64 `json:"maxwait"`
	PoolMode string  `json:"pool_mode"`
}

// Servers is every server connection of the pool.
func (p Pool) Servers() int { return p.SvActive + p.SvIdle + p.SvUsed + p.SvTested + p.SvLogin }

// Pools reads SHOW POOLS.
func (c *Console) Pools(ctx context.Context) ([]Pool, error) {
	rows, err := c.Show(ctx, "POOLS")
	if err != nil {
		return nil, err
	}
	var out []Pool
	for _, r := range rows {
		p := Pool{Database: r["database"], User: r["user"], PoolMode: r["pool_mode"]}
		for key, dst := range map[string]*int{
			"cl_active": &p.ClActive, "cl_waiting": &p.ClWaiting, "sv_active": &p.SvActive,
			"sv_idle": &p.SvIdle, "sv_used": &p.SvUsed, "sv_tested": &p.SvTested, "sv_login": &p.SvLogin,
		} {
			if *dst, err = atoi(r, key); err != nil {
				return nil, fmt.Errorf("SHOW POOLS: %w", err)
			}
		}
		sec, err := atoi(r, "maxwait")
		if err != nil {
			return nil, fmt.Errorf("SHOW POOLS: %w", err)
		}
		us, err := atoi(r, "maxwait_us")
		if err != nil {
			return nil, fmt.Errorf("SHOW POOLS: %w", err)
		}
		p.MaxWait = float64(sec) + float64(us)/1e6
		out = append(out, p)
	}
	return out, nil
}

// Database is one row of SHOW DATABASES.
type Database struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Database string `json:"database"` // the PostgreSQL database it maps to
	// PoolSize is the effective pool size per user (the database's
	// pool_size, else default_pool_size).
	PoolSize        int    `json:"pool_size"`
	MinPoolSize     int    `json:"min_pool_size"`
	ReservePool     int    `json:"reserve_pool"`
	PoolMode        string `json:"pool_mode"` // empty: the global pool_mode
	MaxConnections  int    `json:"max_connections"`
	CurrentConnects int    `json:"current_connections"`
	Paused          bool   `json:"paused"`
	Disabled        bool   `json:"disabled"`
}

// Databases reads SHOW DATABASES.
func (c *Console) Databases(ctx context.Context) ([]Database, error) {
	rows, err := c.Show(ctx, "DATABASES")
	if err != nil {
		return nil, err
	}
	var out []Database
	for _, r := range rows {
		d := Database{Name: r["name"], Host: r["host"], Database: r["database"], PoolMode: r["pool_mode"]}
		d.Paused, d.Disabled = flag(r["paused"]), flag(r["disabled"])
		for key, dst := range map[string]*int{
			"port": &d.Port, "pool_size": &d.PoolSize, "min_pool_size": &d.MinPoolSize,
			"reserve_pool": &d.ReservePool, "max_connections": &d.MaxConnections,
			"current_connections": &d.CurrentConnects,
		} {
			if *dst, err = atoi(r, key); err != nil {
				return nil, fmt.Errorf("SHOW DATABASES: %w", err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func flag(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}

// State is one reading of the console.
type State struct {
	Config    Config     `json:"config"`
	Pools     []Pool     `json:"pools"`
	Databases []Database `json:"databases"`
}

// Read reads SHOW CONFIG, SHOW POOLS and SHOW DATABASES.
func (c *Console) Read(ctx context.Context) (State, error) {
	var s State
	var err error
	if s.Config, err = c.Config(ctx); err != nil {
		return State{}, err
	}
	if s.Pools, err = c.Pools(ctx); err != nil {
		return State{}, err
	}
	if s.Databases, err = c.Databases(ctx); err != nil {
		return State{}, err
	}
	return s, nil
}
