package main

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

func TestEvidenceVerifyIntact(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Rollback)
	pub := filepath.Join(t.TempDir(), "k.pub")
	b, _ := evidence.MarshalPublicKey(evidencetest.PublicKey)
	os.WriteFile(pub, b, 0o644)
	out, stderr, code := runCLI(t, nil, "evidence", "verify", "--pubkey", pub, dir)
	if code != 0 || !strings.Contains(out, "evidence intact") || !strings.Contains(out, "signature verified") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	out, _, code = runCLI(t, nil, "evidence", "verify", "--json", dir)
	var res evidence.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.OK || !res.Signed || res.SignatureChecked {
		t.Fatalf("--json: exit %d %s", code, out)
	}
	if _, _, code = runCLI(t, nil, "evidence", "verify", "--head", res.Head[:12], dir); code != 0 {
		t.Fatalf("--head with the right prefix: exit %d", code)
	}
	out, stderr, code = runCLI(t, nil, "evidence", "verify", "--head", "abcdef", dir)
	if code != 1 || !strings.Contains(stderr, "not the expected abcdef") {
		t.Fatalf("--head wrong: exit %d %s %s", code, out, stderr)
	}
}

func TestEvidenceVerifyTampered(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Success)
	os.Remove(filepath.Join(dir, evidence.FileConfigDiff))
	out, stderr, code := runCLI(t, nil, "evidence", "verify", dir)
	if code != 1 || !strings.Contains(out, "evidence NOT intact") ||
		!strings.Contains(stderr, "evidence does not verify: file config_diff.txt was deleted") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	out, _, code = runCLI(t, nil, "evidence", "verify", "--json", dir)
	var res evidence.Result
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.OK || res.Problems[0].Kind != evidence.ProblemFileDeleted {
		t.Fatalf("--json: exit %d %s", code, out)
	}
}

func TestEvidenceVerifyBadInput(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Refused)
	bad := filepath.Join(t.TempDir(), "bad.pub")
	os.WriteFile(bad, []byte("not a key"), 0o644)
	for _, args := range [][]string{
		{"evidence", "verify", filepath.Join(dir, "nope")},
		{"evidence", "verify", filepath.Dir(dir)},
		{"evidence", "verify", "--pubkey", bad, dir},
		{"evidence", "verify", "--pubkey", bad + "-missing", dir},
		{"evidence", "verify"},
		{"evidence", "verify", dir, dir},
		{"evidence", "keygen"},
		{"evidence"},
	} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != 2 || !strings.Contains(stderr, "poolpilot:") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestEvidenceKeygenThenSignedRun(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "ops")
	out, _, code := runCLI(t, nil, "evidence", "keygen", "--out", prefix)
	if code != 0 || !strings.Contains(out, prefix+".pub") {
		t.Fatalf("keygen: exit %d %s", code, out)
	}
	if _, stderr, code := runCLI(t, nil, "evidence", "keygen", "--out", prefix); code != 2 {
		t.Fatalf("keygen over an existing key: exit %d %s", code, stderr)
	}
	key, err := evidence.LoadPrivateKey(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	// keygen prints the line a plan lists for an approver.
	if want := "public_key: " + evidence.PublicKeyText(key.Public().(ed25519.PublicKey)); !strings.Contains(out, want) {
		t.Errorf("keygen output lacks %q:\n%s", want, out)
	}
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p", SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, nil, "evidence", "verify", "--pubkey", prefix+".pub", "--head", head, f.Dir())
	if code != 0 || !strings.Contains(out, "signature verified") {
		t.Fatalf("verify signed run: exit %d %s", code, out)
	}
	other := filepath.Join(t.TempDir(), "other")
	runCLI(t, nil, "evidence", "keygen", "--out", other)
	_, stderr, code := runCLI(t, nil, "evidence", "verify", "--pubkey", other+".pub", f.Dir())
	if code != 1 || !strings.Contains(stderr, "bad signature") {
		t.Fatalf("verify with another key: exit %d %s", code, stderr)
	}
}
