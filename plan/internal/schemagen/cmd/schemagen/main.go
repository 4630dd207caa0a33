// Command schemagen writes plan/plan.schema.json, the JSON Schema of a
// poolpilot plan: go generate ./plan/ (run in the plan folder).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/poolpilot/poolpilot/plan/internal/schemagen"
)

func main() {
	dir := flag.String("dir", ".", "the plan package's folder")
	out := flag.String("out", "plan.schema.json", "the file to write")
	flag.Parse()
	b, err := schemagen.FromSource(*dir)
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
