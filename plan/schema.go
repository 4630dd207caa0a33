package plan

//go:generate go run ./internal/schemagen/cmd/schemagen -dir . -out plan.schema.json
