package httpapi

import (
	"strings"
	"testing"
)

func TestCheckListenAddr(t *testing.T) {
	cases := []struct {
		addr    string
		warn    string // substring; "" means no warning
		wantErr bool
	}{
		{"127.0.0.1:8080", "", false},
		{"127.0.0.2:0", "", false},
		{"localhost:9090", "", false},
		{"[::1]:8080", "", false},
		{":8080", "ALL network interfaces", false},
		{"0.0.0.0:8080", "ALL network interfaces", false},
		{"[::]:8080", "ALL network interfaces", false},
		{"10.1.2.3:8080", `"10.1.2.3"`, false},
		{"ledger.internal:8080", `"ledger.internal"`, false},
		{"127.0.0.1", "", true},
		{"", "", true},
		{"127.0.0.1:http", "", true},
		{"127.0.0.1:70000", "", true},
		{"127.0.0.1:-1", "", true},
	}
	for _, c := range cases {
		warn, err := CheckListenAddr(c.addr)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: err = %v, want error %v", c.addr, err, c.wantErr)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), c.addr) {
				t.Errorf("%q: error %q does not name the address", c.addr, err)
			}
			continue
		}
		if c.warn == "" && warn != "" {
			t.Errorf("%q: unexpected warning %q", c.addr, warn)
		}
		if c.warn != "" && (!strings.Contains(warn, c.warn) || !strings.HasPrefix(warn, "WARNING")) {
			t.Errorf("%q: warning %q, want WARNING … %s", c.addr, warn, c.warn)
		}
	}
}
