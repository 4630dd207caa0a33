package plan

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

var (
	keyA = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	keyB = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
)

func withApprovers(required int, lines string) string {
	return "approvals:\n  required: " + string(rune('0'+required)) + "\n  statement: I approve Phase 1 execution\n  approvers:\n" + lines
}

func TestApprovers(t *testing.T) {
	seed := string(seedPlan(t))
	const from = "approvals:\n  required: 1\n  statement: I approve Phase 1 execution\n"
	if !strings.Contains(seed, from) {
		t.Fatalf("seed plan has no %q", from)
	}
	good := withApprovers(2, "    - {name: Jane Doe, public_key: "+keyA+"}\n    - name: Raj Patel\n      public_key: |\n        -----BEGIN PUBLIC KEY-----\n        MCowBQYDK2VwAyEAAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n        -----END PUBLIC KEY-----\n")
	p, err := Parse([]byte(strings.Replace(seed, from, good, 1)))
	if err != nil {
		t.Fatalf("two approvers, base64 and PEM keys: %v", err)
	}
	if !p.Approvals.Signed() || len(p.Approvals.Approvers) != 2 {
		t.Fatalf("approvers %+v", p.Approvals)
	}
	if a, ok := p.Approvals.Approver("  jane doe "); !ok || a.PublicKey != keyA {
		t.Errorf("Approver(jane doe) = %+v %v", a, ok)
	}
	seedPlan, _ := Parse([]byte(seed))
	if seedPlan.SHA256() == p.SHA256() {
		t.Error("listing approvers kept the plan's SHA-256: approvals would survive a change of who may approve")
	}

	cases := []struct{ name, approvals, want string }{
		{"fewer approvers than required", withApprovers(2, "    - {name: Jane Doe, public_key: "+keyA+"}\n"), "lists 1 approver(s) but approvals.required is 2"},
		{"no name", withApprovers(1, "    - {public_key: "+keyA+"}\n"), "approvers[0].name: is required"},
		{"no key", withApprovers(1, "    - {name: Jane Doe}\n"), "approvers[0].public_key: is required"},
		{"not a key", withApprovers(1, "    - {name: Jane Doe, public_key: hunter2}\n"), "not an Ed25519 public key"},
		{"short key", withApprovers(1, "    - {name: Jane Doe, public_key: AQID}\n"), "base64 of 32 bytes"},
		{"bad PEM", withApprovers(1, "    - name: Jane Doe\n      public_key: \"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\"\n"), "approvers[0].public_key"},
		{"same name twice", withApprovers(1, "    - {name: Jane Doe, public_key: "+keyA+"}\n    - {name: JANE DOE, public_key: "+keyB+"}\n"), `"JANE DOE" is listed twice`},
		{"same key twice", withApprovers(1, "    - {name: Jane Doe, public_key: "+keyA+"}\n    - {name: Raj Patel, public_key: "+keyA+"}\n"), "same key as approvers[0]"},
		{"unknown field", withApprovers(1, "    - {name: Jane Doe, public_key: "+keyA+", role: cto}\n"), "role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(seed, from, tc.approvals, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
