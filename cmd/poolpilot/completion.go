package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// flagValues are the values a flag takes, per command path: shell
// completion offers them (cobra's completion command: bash, zsh, fish,
// powershell). Each command validates its own flags; a test checks that
// these lists match what the commands accept.
var flagValues = map[string]map[string][]string{
	"poolpilot load http": {"workload": {"ledger"}},
	"poolpilot load sql":  {"workload": {"select1", "ledger"}},
	"poolpilot plan init": {"workload": {"ledger", "http", "select1", "none"}, "driver": {"admin", "restart", "kube"}},
	"poolpilot size":      {"workload": {"select1", "ledger"}},
	"poolpilot report":    {"format": {"md", "html", "json"}},
	"poolpilot demo":      {"scenario": {"success", "rollback", "staircase", "both", "all"}},
}

// addCompletions walks the command tree: flags with a known set of values
// complete to it; a PLAN argument or a --plan flag completes to YAML
// files; a DIR argument to directories.
func addCompletions(c *cobra.Command) {
	for name, values := range flagValues[c.CommandPath()] {
		_ = c.RegisterFlagCompletionFunc(name, fixed(values))
	}
	if c.Flags().Lookup("plan") != nil {
		_ = c.RegisterFlagCompletionFunc("plan", yamlFiles)
	}
	args := strings.Fields(c.Use)
	if c.ValidArgsFunction == nil && len(args) > 1 {
		switch args[1] {
		case "PLAN":
			c.ValidArgsFunction = firstArg(yamlFiles)
		case "DIR":
			c.ValidArgsFunction = firstArg(dirs)
		}
	}
	for _, sub := range c.Commands() {
		addCompletions(sub)
	}
}

func fixed(values []string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func yamlFiles(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

func dirs(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// firstArg completes the first positional argument with f, nothing after.
func firstArg(f cobra.CompletionFunc) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, s string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(c, args, s)
	}
}
