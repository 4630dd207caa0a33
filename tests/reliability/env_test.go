package reliability

import (
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/ledger/service"
)

// TestEnvBadInputCatalogue feeds ledgerd's configuration loader malformed
// environments: each is refused with a message naming the variable, and
// none of the messages holds the password of DATABASE_URL.
func TestEnvBadInputCatalogue(t *testing.T) {
	const dsn = "postgres://u:" + plantedPassword + "@127.0.0.1:5432/db"
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no DATABASE_URL", map[string]string{}, "DATABASE_URL"},
		{"DATABASE_URL not a URL", map[string]string{"DATABASE_URL": "::::"}, "DATABASE_URL"},
		{"DATABASE_URL wrong scheme", map[string]string{"DATABASE_URL": "mysql://u:" + plantedPassword + "@h/db"}, "DATABASE_URL"},
		{"DB_POOL_MAX text", map[string]string{"DATABASE_URL": dsn, "DB_POOL_MAX": "lots"}, "DB_POOL_MAX"},
		{"DB_POOL_MAX zero", map[string]string{"DATABASE_URL": dsn, "DB_POOL_MAX": "0"}, "DB_POOL_MAX"},
		{"DB_POOL_MAX absurd", map[string]string{"DATABASE_URL": dsn, "DB_POOL_MAX": "99999999"}, "DB_POOL_MAX"},
		{"DB_POOL_MIN negative", map[string]string{"DATABASE_URL": dsn, "DB_POOL_MIN": "-1"}, "DB_POOL_MIN"},
		{"DB_POOL_MIN above max", map[string]string{"DATABASE_URL": dsn, "DB_POOL_MAX": "5", "DB_POOL_MIN": "9"}, "DB_POOL_MIN"},
		{"idle timeout text", map[string]string{"DATABASE_URL": dsn, "DB_POOL_IDLE_TIMEOUT": "soon"}, "DB_POOL_IDLE_TIMEOUT"},
		{"connection timeout too small", map[string]string{"DATABASE_URL": dsn, "DB_POOL_CONNECTION_TIMEOUT": "1ns"}, "DB_POOL_CONNECTION_TIMEOUT"},
		{"lifetime negative", map[string]string{"DATABASE_URL": dsn, "DB_POOL_MAX_LIFETIME": "-5s"}, "DB_POOL_MAX_LIFETIME"},
		{"health period huge", map[string]string{"DATABASE_URL": dsn, "DB_POOL_HEALTH_CHECK_PERIOD": "9999h"}, "DB_POOL_HEALTH_CHECK_PERIOD"},
		{"pooler unknown", map[string]string{"DATABASE_URL": dsn, "DB_POOL_POOLER": "statement-ish"}, "DB_POOL_POOLER"},
		{"addr not host:port", map[string]string{"DATABASE_URL": dsn, service.EnvAddr: "localhost"}, service.EnvAddr},
		{"log level unknown", map[string]string{"DATABASE_URL": dsn, service.EnvLogLevel: "loud"}, service.EnvLogLevel},
		{"shutdown timeout too long", map[string]string{"DATABASE_URL": dsn, service.EnvShutdownTimeout: "100h"}, service.EnvShutdownTimeout},
	}
	for _, c := range cases {
		_, err := service.LoadConfig(func(k string) string { return c.env[k] })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one naming %s", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), plantedPassword) {
			t.Errorf("%s: the error holds the password: %v", c.name, err)
		}
	}
	t.Logf("%d malformed environments refused", len(cases))
}
