package httpapi

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultAddr is the loopback address services listen on by default.
const DefaultAddr = "127.0.0.1:8080"

// CheckListenAddr checks a listen address (host:port). A loopback address
// (127.0.0.0/8, ::1, localhost) gives no warning; any other bind gives a
// loud warning, because /metrics and the admin endpoints become reachable
// from the network. A malformed address, a bad port or an empty value is an
// error that names the address.
func CheckListenAddr(addr string) (warning string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q is not host:port (e.g. %s): %v", addr, DefaultAddr, err)
	}
	if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("listen address %q has an invalid port %q: want 0–65535", addr, port)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return "", nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return "", nil
	}
	where := fmt.Sprintf("%q", h)
	if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
		where = "ALL network interfaces"
	}
	return fmt.Sprintf("WARNING: listening on %s (%s), not loopback: /healthz, /metrics "+
		"and, when POOLPILOT_ADMIN_TOKEN is set, PUT /admin/pool are reachable from the network; "+
		"bind to %s unless a firewall or proxy protects this port", where, addr, DefaultAddr), nil
}
