// Package driver groups poolpilot's apply/rollback drivers: admin (live
// resize through PUT /admin/pool) and restart (rewrite an env file and run a
// restart command). Each implements change.Driver.
package driver
