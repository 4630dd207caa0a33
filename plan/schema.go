package plan

// plan.schema.json is generated from the types in plan.go (and the root
// package's CriterionSpec and Duration); TestSchemaIsInSync fails when it
// is out of date.
//go:generate go run ./internal/schemagen/cmd/schemagen -dir . -out plan.schema.json
