//go:build man

package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The man page generator is built only with -tags man (scripts/man.sh), so
// that release binaries do not carry go-md2man.
func init() { commands = append(commands, newManCmd) }

func newManCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "__man DIR",
		Short:  "Write a man page per command into DIR (scripts/man.sh)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{Title: "POOLPILOT", Section: "1", Source: "poolpilot " + buildVersion().Version, Manual: "poolpilot manual"}
			if err := doc.GenManTree(root, hdr, args[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintln(e.stdout, "wrote man pages to", args[0])
			return nil
		},
	}
}
