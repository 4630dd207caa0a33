package main

import (
	"path/filepath"
	"testing"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
)

// credentials_present asks for what the plan's driver reads
// (driver.EnvNeeder): the admin driver each instance's token, the kube
// driver none.
func TestPreflightCredentialsAreTheDriversNeeds(t *testing.T) {
	db := pgtest.NewDatabase(t)
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	dir := t.TempDir()
	admin := writeTestPlan(t, dir, plan.DriverAdmin, "http://127.0.0.1:1/healthz")
	checks, _ := preflightChecks(t, getenv, admin)
	expect(t, checks, "credentials_present", "fail", "unset environment variables: POOLPILOT_ADMIN_TOKEN (instance-1)")

	kube := writeTestPlan(t, dir, plan.DriverKube, "http://127.0.0.1:1/healthz",
		"# kubeconfig: ~/.kube/prod", "kubeconfig: "+filepath.Join(dir, "nope"))
	checks, _ = preflightChecks(t, getenv, kube)
	expect(t, checks, "credentials_present", "pass")
}
