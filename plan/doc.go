// Package plan reads, validates and writes poolpilot plans: YAML files that
// name the instances, the database, the change (from → to), the driver, the
// change window, the approvals, the checklist, the load test, the soak, the
// criteria, the notifications and the evidence directory.
//
// Decoding is strict and reports every problem of a file at once, each with
// its line and field: unknown keys, wrong types, impossible values, a second
// YAML document. A field left out gets its default; the same field given as
// an explicit zero is refused. A plan's identity is the SHA-256 of its
// normalised form (see Plan.SHA256), so comments and formatting may change
// without voiding an approval, while any change of meaning does.
//
// plan.schema.json, the plan's JSON Schema for editors, is generated from
// the Go types by `go generate ./plan/` and checked by a test.
package plan
