package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Keys are PEM files: the private key as PKCS#8 ("PRIVATE KEY"), the
// public key as PKIX ("PUBLIC KEY"), the formats of `openssl genpkey
// -algorithm ed25519` and `openssl pkey -pubout`.

// GenerateKey makes an Ed25519 key pair (r nil: crypto/rand).
func GenerateKey(r io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	return ed25519.GenerateKey(r)
}

// MarshalPrivateKey encodes a private key as PEM PKCS#8.
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes a public key as PEM PKIX.
func MarshalPublicKey(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PEM PKCS#8 Ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New(`not a PEM "PRIVATE KEY" (PKCS#8) block: make one with 'poolpilot evidence keygen'`)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want Ed25519", k)
	}
	return ek, nil
}

// ParsePublicKey reads a PEM PKIX Ed25519 public key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New(`not a PEM "PUBLIC KEY" block: use the .pub file made by 'poolpilot evidence keygen'`)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want Ed25519", k)
	}
	return ek, nil
}

// LoadPrivateKey reads a private key file. Like ssh, it refuses a key that
// other users can read: whoever can read it can sign evidence heads and
// approvals in its owner's name.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s is readable or writable by other users (mode %04o): make it private with chmod 600 %s (for a Kubernetes secret, defaultMode: 0400)", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyPair writes PREFIX.key (mode 0600) and PREFIX.pub; it refuses to
// overwrite an existing file.
func WriteKeyPair(prefix string, r io.Reader) (keyPath, pubPath string, err error) {
	pub, priv, err := GenerateKey(r)
	if err != nil {
		return "", "", err
	}
	kb, err := MarshalPrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pb, err := MarshalPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	keyPath, pubPath = prefix+".key", prefix+".pub"
	for _, p := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{keyPath, kb, 0o600}, {pubPath, pb, 0o644}} {
		fh, err := os.OpenFile(p.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.mode)
		if err != nil {
			return "", "", fmt.Errorf("keygen: %w", err)
		}
		_, werr := fh.Write(p.b)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", "", fmt.Errorf("keygen: %w", werr)
		}
	}
	return keyPath, pubPath, nil
}

// Sign signs msg with Ed25519.
func Sign(k ed25519.PrivateKey, msg []byte) []byte { return ed25519.Sign(k, msg) }

// VerifySignature checks an Ed25519 signature of msg.
func VerifySignature(pub ed25519.PublicKey, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
}

// SigningBytes are the bytes an approval's signature covers.
func (a Approval) SigningBytes() []byte {
	return []byte(fmt.Sprintf("poolpilot-approval-v1\nplan_sha256=%s\nby=%s\nrole=%s\nstatement=%s\ntime=%s\n",
		a.PlanSHA256, oneLine(a.By), oneLine(a.Role), oneLine(a.Statement), a.Time.UTC().Format(time.RFC3339Nano)))
}

func oneLine(s string) string { return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s) }

// SignApproval returns a with Signature and PublicKey set.
func SignApproval(k ed25519.PrivateKey, a Approval) Approval {
	a.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(k, a.SigningBytes()))
	a.PublicKey = base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
	return a
}

// VerifyApproval checks a's signature against pub (the trusted key, not the
// one the approval carries).
func VerifyApproval(pub ed25519.PublicKey, a Approval) error {
	if a.Signature == "" {
		return fmt.Errorf("approval by %s is not signed", a.By)
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil {
		return fmt.Errorf("approval by %s: signature is not base64: %w", a.By, err)
	}
	if !VerifySignature(pub, a.SigningBytes(), sig) {
		return fmt.Errorf("approval by %s: bad signature (edited after signing, or signed with another key)", a.By)
	}
	return nil
}

// PublicKeyText is the one-line form of a public key that a plan lists
// (approvals.approvers[].public_key): base64 of the raw 32 bytes.
func PublicKeyText(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// ParsePublicKeyText reads a public key written either as PublicKeyText
// (base64 of the raw 32 bytes) or as the PEM block of a .pub file.
func ParsePublicKeyText(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		return ParsePublicKey([]byte(s))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("not an Ed25519 public key: want the base64 of 32 bytes (%d characters, as printed by 'poolpilot evidence keygen') or a PEM \"PUBLIC KEY\" block", base64.StdEncoding.EncodedLen(ed25519.PublicKeySize))
	}
	return ed25519.PublicKey(b), nil
}
