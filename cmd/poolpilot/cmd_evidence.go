package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
)

func init() { commands = append(commands, newEvidenceCmd) }

func newEvidenceCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "evidence",
		Short: "Verify an evidence folder, or make a signing key pair",
		Example: `  poolpilot evidence verify launch/evidence/phase1_pool_scaling/20260201T020000Z-a1b2c3
  poolpilot evidence keygen --out ops-signing`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return poolpilot.BadInput("evidence needs a subcommand: verify or keygen")
		},
	}
	c.AddCommand(newEvidenceVerifyCmd(e), newEvidenceKeygenCmd(e))
	return c
}

func newEvidenceVerifyCmd(e *env) *cobra.Command {
	var pubPath, head string
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check an evidence folder against its hash-chained audit log",
		Long: `verify checks a run folder: the hash chain of audit.jsonl, audit.head, every
file's SHA-256 against the last file_written record for it, that no file is
missing or extra, and (with --pubkey) the Ed25519 signature of the head.

Exit status: 0 intact; 1 not intact (the first line or file that does not
match is named); 2 bad input (no such folder, not an evidence folder,
unreadable key).`,
		Example: `  poolpilot evidence verify launch/evidence/phase1_pool_scaling/20260201T020000Z-a1b2c3
  poolpilot evidence verify --pubkey ops-signing.pub --json DIR
  poolpilot evidence verify --head d43c8a5df652… DIR`,
		Args: evExactArgs(1, "DIR: the run folder"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pub ed25519.PublicKey
			if pubPath != "" {
				k, err := evidence.LoadPublicKey(pubPath)
				if err != nil {
					return poolpilot.BadInput("--pubkey: %v", err)
				}
				pub = k
			}
			res, err := evidence.Verify(args[0], pub)
			if err != nil {
				return poolpilot.BadInput("evidence verify: %v", err)
			}
			if head != "" && res.OK && !strings.HasPrefix(res.Head, strings.ToLower(head)) {
				res.OK = false
				res.Problems = append(res.Problems, evidence.Problem{Kind: evidence.ProblemHeadMismatch, File: evidence.FileHead,
					Message: fmt.Sprintf("head is %s, not the expected %s given with --head", res.Head, head)})
			}
			if asJSON {
				if err := evWriteJSON(e.stdout, res); err != nil {
					return err
				}
			} else {
				printVerify(e.stdout, res)
			}
			if !res.OK {
				return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: errors.New("evidence does not verify: " + res.First().Message)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&pubPath, "pubkey", "", "PEM public key `FILE` to check the head's signature")
	c.Flags().StringVar(&head, "head", "", "expected head `HASH` (or a prefix of it), as printed at the end of the run")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func printVerify(w io.Writer, r evidence.Result) {
	sig := "not signed"
	switch {
	case r.Signed && r.SignatureChecked && r.OK:
		sig = "signature verified"
	case r.Signed && !r.SignatureChecked:
		sig = "signed (not checked: give --pubkey)"
	}
	if r.OK {
		fmt.Fprintf(w, "evidence intact: %s\n  %d audit lines, %d files, head %s, %s\n", r.Dir, r.Lines, len(r.Files), r.Head, sig)
		return
	}
	fmt.Fprintf(w, "evidence NOT intact: %s\n  %s\n", r.Dir, r.Problems[0].Message)
	if len(r.Problems) > 1 {
		fmt.Fprintf(w, "  and %d more:\n", len(r.Problems)-1)
		for _, p := range r.Problems[1:] {
			fmt.Fprintf(w, "  - %s\n", p.Message)
		}
	}
}

func newEvidenceKeygenCmd(e *env) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Make an Ed25519 key pair to sign evidence heads and approvals",
		Long: `keygen writes PREFIX.key (PEM PKCS#8 private key, mode 0600) and PREFIX.pub
(PEM public key), the formats of openssl genpkey -algorithm ed25519. It never
overwrites a file. Keep the .key secret; give the .pub to reviewers.`,
		Example: "  poolpilot evidence keygen --out ops-signing",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return poolpilot.BadInput("keygen: --out PREFIX is required (writes PREFIX.key and PREFIX.pub)")
			}
			k, p, err := evidence.WriteKeyPair(out, nil)
			if err != nil {
				return poolpilot.BadInput("%v", err)
			}
			pub, err := evidence.LoadPublicKey(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "private key: %s (keep it secret)\npublic key:  %s\n", k, p)
			fmt.Fprintf(e.stdout, "to let this key approve a plan, list it there:\n  approvals:\n    approvers:\n      - name: YOUR NAME\n        public_key: %s\n", evidence.PublicKeyText(pub))
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "`PREFIX` of the key files")
	return c
}

// evExactArgs is cobra.ExactArgs with a message that says what is missing.
func evExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return poolpilot.BadInput("%s takes %d argument(s), got %d: %s", cmd.CommandPath(), n, len(args), what)
		}
		return nil
	}
}

func evWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
