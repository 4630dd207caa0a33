package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are set by the release script:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=<sha>" ./cmd/poolpilot
//
// Unset (go build, go install), they come from the module build info.
var (
	version string
	commit  string
)

func init() { commands = append(commands, newVersionCmd) }

// VersionInfo is what `poolpilot version --json` prints.
type VersionInfo struct {
	Version string `json:"version"`
	// Commit is the VCS revision built ("" when unknown).
	Commit string `json:"commit"`
	// Modified says the working tree had uncommitted changes (go build in
	// a checkout; absent from release builds).
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// buildVersion is the running binary's version: the linker's values, else
// the module build info ("(devel)" when there is none).
func buildVersion() VersionInfo {
	vi := VersionInfo{Version: version, Commit: commit, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fillDevel(vi)
	}
	if vi.Version == "" {
		vi.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && vi.Commit == "":
			vi.Commit = s.Value
		case s.Key == "vcs.modified" && commit == "":
			vi.Modified = s.Value == "true"
		}
	}
	return fillDevel(vi)
}

func fillDevel(vi VersionInfo) VersionInfo {
	if vi.Version == "" {
		vi.Version = "(devel)"
	}
	return vi
}

func newVersionCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the poolpilot version, commit and Go version",
		Long: `Print the poolpilot version, the commit it was built from and the Go
version that built it. Release binaries carry the version given to
scripts/release.sh; a go build or go install takes it from the module build
info. Every run records it in its run_opened audit event.`,
		Example: "  poolpilot version\n  poolpilot version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			vi := buildVersion()
			if asJSON {
				b, _ := json.MarshalIndent(vi, "", "  ")
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			fmt.Fprintln(e.stdout, "poolpilot", vi.Version)
			rev := vi.Commit
			if rev == "" {
				rev = "unknown"
			}
			if vi.Modified {
				rev += " (modified)"
			}
			fmt.Fprintln(e.stdout, "commit   ", rev)
			fmt.Fprintln(e.stdout, "go       ", vi.Go)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
