// Package contract is poolpilot's pool contract, for services in any
// language: JSON Schemas (draft 2020-12) of the health document served at
// GET /healthz (health.schema.json) and of PUT /admin/pool's request and
// answers (admin-pool.schema.json), and the names and types of the metrics
// served at GET /metrics (metrics.json). The files are embedded; docs/contract.md
// explains them.
//
// This is the only package that imports a JSON Schema validator
// (github.com/santhosh-tekuri/jsonschema/v6).
package contract
