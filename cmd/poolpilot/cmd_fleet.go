package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/pgbouncer"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/plan"
)

func init() { commands = append(commands, newKubeCmd, newPgBouncerCmd) }

type kubeDryRunFlags struct {
	target, to, from, kubeconfig string
	json                         bool
}

func newKubeCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "kube", Short: "Kubernetes: the patch and the connection budget of a Deployment (docs/fleets.md)"}
	var f kubeDryRunFlags
	dry := &cobra.Command{
		Use:   "dry-run",
		Short: "Print the exact env patch for a Deployment and the budget arithmetic; change nothing",
		Long: `dry-run reads the Deployment named by --target (kube://namespace/deployment[/container]),
its HorizontalPodAutoscaler and its rolling-update maxSurge, and prints the
container's current DB_POOL_MAX/DB_POOL_MIN, the exact strategic-merge patch
the kube driver would send for --to, and the peak-connection arithmetic
(max replicas + max surge rounded up, × DB_POOL_MAX). It changes nothing.

Cluster access: --kubeconfig FILE, else in-cluster when KUBERNETES_SERVICE_HOST
is set, else $KUBECONFIG or ~/.kube/config.

Exit status: 0 printed, 2 bad input, 1 the cluster could not be read.`,
		Example: `  poolpilot kube dry-run --target kube://prod/ledgerd/app --to 200:20
  poolpilot kube dry-run --target kube://prod/ledgerd --to 200:20 --kubeconfig ~/.kube/prod --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runKubeDryRun(cmd.Context(), e, f) },
	}
	fl := dry.Flags()
	fl.StringVar(&f.target, "target", "", "the Deployment, kube://namespace/deployment[/container] (required)")
	fl.StringVar(&f.to, "to", "", "the new pool size `MAX:MIN` (required)")
	fl.StringVar(&f.from, "from", "", "the plan's change.from `MAX:MIN` (a --to equal to it means a rollback)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default: in-cluster, $KUBECONFIG, ~/.kube/config)")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
	c.AddCommand(dry)
	return c
}

func runKubeDryRun(ctx context.Context, e *env, f kubeDryRunFlags) error {
	t, err := kube.ParseTarget(f.target)
	if err != nil {
		return poolpilot.BadInput("--target: %v", err)
	}
	to, err := plan.ParsePoolSize(f.to)
	if err != nil {
		return poolpilot.BadInput("--to: %v", err)
	}
	if err := pgpool.ValidateSize(to.Max, to.Min); err != nil {
		return poolpilot.BadInput("--to: %v", err)
	}
	var from plan.PoolSize
	if f.from != "" {
		if from, err = plan.ParsePoolSize(f.from); err != nil {
			return poolpilot.BadInput("--from: %v", err)
		}
	}
	cs, err := kube.NewClient(f.kubeconfig)
	if err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	d := &kube.Driver{Client: cs, From: from}
	res, err := d.DryRun(ctx, plan.Instance{Name: t.Deployment, AdminURL: t.String()}, to)
	if err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: err}
	}
	if f.json {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(e.stdout, "target:   %s\nprevious: %s\n", res.Target, res.Previous)
	if len(res.Patch) == 0 {
		fmt.Fprintf(e.stdout, "patch:    none (the env is already %d:%d)\n", to.Max, to.Min)
	} else {
		fmt.Fprintf(e.stdout, "patch (strategic merge, apps/v1 Deployment %s/%s):\n%s\n", t.Namespace, t.Deployment, res.Patch)
	}
	fmt.Fprintf(e.stdout, "budget:\n%s", indent(res.Budget))
	return nil
}

type pgbFlags struct {
	adminEnv, dsnEnv, database string
	instances, poolMax, users  int
	otherClients               int
	json                       bool
}

func newPgBouncerCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "pgbouncer", Short: "PgBouncer: read the admin console, check the budget on both sides (docs/fleets.md)"}
	var f pgbFlags
	show := &cobra.Command{
		Use:   "show",
		Short: "Print SHOW CONFIG (pool settings), SHOW POOLS and SHOW DATABASES",
		Long: `show connects to PgBouncer's admin console (the "pgbouncer" database; the URL
is read from the variable named by --admin-url-env, default PGBOUNCER_ADMIN_URL,
so that no password is on the command line) and prints the pool settings,
the pools and the databases.

Exit status: 0 printed, 2 bad input or the console could not be read.`,
		Example: `  PGBOUNCER_ADMIN_URL=postgres://admin@127.0.0.1:6432/pgbouncer poolpilot pgbouncer show
  poolpilot pgbouncer show --json | jq .pools`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPgBouncerShow(cmd.Context(), e, f) },
	}
	budget := &cobra.Command{
		Use:   "budget",
		Short: "Check a fleet's connections against max_client_conn, max_db_connections and max_connections",
		Long: `budget reads PgBouncer's console and PostgreSQL's limits (over a direct
connection: the URL in the variable named by --dsn-env, default DATABASE_URL)
and checks both sides of the pooler: --instances × --pool-max (+ --other-clients)
against max_client_conn, and users × (pool_size + reserve_pool) of --database,
capped by max_db_connections, against what PostgreSQL has available.
--instances is the peak: max replicas plus surge.

Exit status: 0 fits, 4 does not fit, 2 bad input or a source could not be read.`,
		Example: `  poolpilot pgbouncer budget --database ledger --instances 13 --pool-max 200
  poolpilot pgbouncer budget --database ledger --instances 625 --pool-max 20 --users 2 --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPgBouncerBudget(cmd.Context(), e, f) },
	}
	for _, sub := range []*cobra.Command{show, budget} {
		sub.Flags().StringVar(&f.adminEnv, "admin-url-env", "PGBOUNCER_ADMIN_URL", "variable holding the admin console URL")
		sub.Flags().BoolVar(&f.json, "json", false, "print the result as JSON")
	}
	bf := budget.Flags()
	bf.StringVar(&f.dsnEnv, "dsn-env", "DATABASE_URL", "variable holding a direct PostgreSQL URL")
	bf.StringVar(&f.database, "database", "", "the PgBouncer database the service connects to (required)")
	bf.IntVar(&f.instances, "instances", 0, "peak instances: max replicas + surge (required)")
	bf.IntVar(&f.poolMax, "pool-max", 0, "DB_POOL_MAX per instance (required)")
	bf.IntVar(&f.users, "users", 1, "distinct users the service logs in as")
	bf.IntVar(&f.otherClients, "other-clients", 0, "other client connections to PgBouncer")
	c.AddCommand(show, budget)
	return c
}

func openConsole(ctx context.Context, e *env, f pgbFlags) (*pgbouncer.Console, error) {
	url := strings.TrimSpace(e.getenv(f.adminEnv))
	if url == "" {
		return nil, poolpilot.BadInput("%s is empty: set it to the admin console URL, e.g. postgres://admin@127.0.0.1:6432/pgbouncer", f.adminEnv)
	}
	c, err := pgbouncer.Connect(ctx, url)
	if err != nil {
		return nil, &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	return c, nil
}

func runPgBouncerShow(ctx context.Context, e *env, f pgbFlags) error {
	c, err := openConsole(ctx, e, f)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	s, err := c.Read(ctx)
	if err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	if f.json {
		b, _ := json.MarshalIndent(s, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return nil
	}
	cf := s.Config
	fmt.Fprintf(e.stdout, "pool_mode %s, default_pool_size %d, reserve_pool_size %d, max_client_conn %d, max_db_connections %d, max_user_connections %d\n\n",
		cf.PoolMode, cf.DefaultPoolSize, cf.ReservePoolSize, cf.MaxClientConn, cf.MaxDBConnections, cf.MaxUserConnections)
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tUSER\tCL_ACTIVE\tCL_WAITING\tSERVERS\tSV_ACTIVE\tMAXWAIT_S\tMODE")
	for _, p := range s.Pools {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.3f\t%s\n", p.Database, p.User, p.ClActive, p.ClWaiting, p.Servers(), p.SvActive, p.MaxWait, p.PoolMode)
	}
	fmt.Fprintln(tw, "\nNAME\tHOST:PORT\tDATABASE\tPOOL_SIZE\tRESERVE\tMAX_CONN\tCURRENT\t")
	for _, d := range s.Databases {
		fmt.Fprintf(tw, "%s\t%s:%d\t%s\t%d\t%d\t%d\t%d\t\n", d.Name, d.Host, d.Port, d.Database, d.PoolSize, d.ReservePool, d.MaxConnections, d.CurrentConnects)
	}
	return tw.Flush()
}

func runPgBouncerBudget(ctx context.Context, e *env, f pgbFlags) error {
	var bad []string
	if f.database == "" {
		bad = append(bad, "--database is required (the PgBouncer database name)")
	}
	if f.instances < 1 || f.poolMax < 1 || f.users < 1 || f.otherClients < 0 {
		bad = append(bad, fmt.Sprintf("--instances (%d), --pool-max (%d) and --users (%d) must be at least 1, --other-clients (%d) at least 0", f.instances, f.poolMax, f.users, f.otherClients))
	}
	if len(bad) > 0 {
		return poolpilot.BadInput("%s", strings.Join(bad, "; "))
	}
	lim, err := directLimits(ctx, e, f.dsnEnv)
	if err != nil {
		return err
	}
	c, err := openConsole(ctx, e, f)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	s, err := c.Read(ctx)
	if err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	b := pgbouncer.ComputeBudget(s, pgbouncer.BudgetInput{Database: f.database, Users: f.users, Instances: f.instances,
		PoolMax: f.poolMax, OtherClients: f.otherClients, Server: lim})
	if f.json {
		out, _ := json.MarshalIndent(b, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", out)
	} else {
		fmt.Fprint(e.stdout, b.Text())
	}
	if !b.OK {
		return &poolpilot.ExitError{Code: poolpilot.ExitRefused, Err: fmt.Errorf("the fleet does not fit behind PgBouncer (client side ok: %v, server side ok: %v)", b.ClientOK, b.ServerOK)}
	}
	return nil
}

// directLimits reads PostgreSQL's limits over a direct connection.
func directLimits(ctx context.Context, e *env, dsnEnv string) (pgpool.ServerLimits, error) {
	dsn := strings.TrimSpace(e.getenv(dsnEnv))
	if dsn == "" {
		return pgpool.ServerLimits{}, poolpilot.BadInput("%s is empty: set it to a direct PostgreSQL URL (not through PgBouncer)", dsnEnv)
	}
	lim, err := pgbouncer.ServerLimits(ctx, dsn)
	if err != nil {
		return pgpool.ServerLimits{}, poolpilot.BadInput("%s: %v", dsnEnv, err)
	}
	return lim, nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
