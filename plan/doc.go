// Package plan reads, validates and writes poolpilot plans: YAML files that
// name the instances, the database, the change (from → to), the driver, the
// change window, the approvals, the checklist, the load test, the soak, the
// criteria, the notifications and the evidence directory.
//
// Decoding is strict: unknown keys and wrong types are refused with the line
// and the field. A plan's identity is the SHA-256 of its normalised form
// (see Plan.SHA256), so comments and formatting may change without voiding
// an approval, while any change of meaning does.
package plan
