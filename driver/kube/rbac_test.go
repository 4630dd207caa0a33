package kube

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/poolpilot/poolpilot/internal/kubetest"
	"github.com/poolpilot/poolpilot/plan"
)

const manifestDir = "../../deploy/kubernetes"

// manifests decodes every object of deploy/kubernetes with client-go's
// scheme (a typo in a field or a kind fails here) and returns them with
// the kustomization's namespace.
func manifests(t *testing.T) ([]runtime.Object, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Namespace string   `yaml:"namespace"`
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil || k.Namespace == "" {
		t.Fatalf("kustomization.yaml: %v (namespace %q)", err, k.Namespace)
	}
	files, _ := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	var listed []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			listed = append(listed, filepath.Base(f))
		}
	}
	if sort.Strings(k.Resources); !slices.Equal(k.Resources, listed) {
		t.Errorf("kustomization.yaml lists %v, the folder holds %v", k.Resources, listed)
	}
	var objs []runtime.Object
	for _, name := range k.Resources {
		b, err := os.ReadFile(filepath.Join(manifestDir, name))
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---$`).Split(string(b), -1) {
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("%s document %d: %v", name, i+1, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs, k.Namespace
}

// driverCalls runs everything the driver does against a cluster — the
// budget inputs, a dry run, apply, the rollout, the snapshot, rollback —
// and returns the API calls it made.
func driverCalls(t *testing.T, target string) []kubetest.Call {
	t.Helper()
	in := inst(target)
	tg, err := TargetOf(in)
	if err != nil {
		t.Fatal(err)
	}
	dep := deployment(tg.Namespace, tg.Deployment, 3, []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}})
	c := kubetest.New(t, dep, hpa(tg.Namespace, tg.Deployment, tg.Deployment, 10))
	d, ctx := driverOn(c, seedFrom), context.Background()
	if _, err := ReadFleet(ctx, d, tg); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DryRun(ctx, in, seedTo); err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(ctx, in, seedTo, io.Discard); err != nil {
		t.Fatal(err)
	}
	snap, ok, err := d.Recorded(ctx, tg)
	if err != nil || !ok {
		t.Fatalf("recorded: %v %v", ok, err)
	}
	if _, err := d.Snapshot(ctx, tg); err != nil {
		t.Fatal(err)
	}
	if err := d.Restore(ctx, snap, io.Discard); err != nil {
		t.Fatal(err)
	}
	if c.Patches() != 2 {
		t.Fatalf("%d patches, want apply and restore", c.Patches())
	}
	return c.Calls()
}

// The ServiceAccount's Role grants exactly what the driver calls: every
// call it makes is allowed, and no rule grants a verb it never uses.
func TestRBACManifests(t *testing.T) {
	objs, ns := manifests(t)
	var role *rbacv1.Role
	var job *batchv1.Job
	var p *plan.Plan
	bound := false
	for _, o := range objs {
		switch o := o.(type) {
		case *rbacv1.Role:
			role = o
		case *rbacv1.RoleBinding:
			bound = o.RoleRef.Kind == "Role" && o.RoleRef.Name == "poolpilot" && len(o.Subjects) == 1 &&
				o.Subjects[0].Kind == "ServiceAccount" && o.Subjects[0].Name == "poolpilot"
		case *batchv1.Job:
			job = o
		case *corev1.ConfigMap:
			var err error
			if p, err = plan.Parse([]byte(o.Data["plan.yaml"])); err != nil {
				t.Fatalf("the ConfigMap's plan: %v", err)
			}
		}
	}
	if role == nil || !bound || job == nil || p == nil {
		t.Fatalf("want a Role, a RoleBinding of it to the ServiceAccount poolpilot, a Job and a plan (role %v bound %v job %v plan %v)", role != nil, bound, job != nil, p != nil)
	}
	if p.Driver != plan.DriverKube || len(p.Instances) == 0 {
		t.Fatalf("the plan's driver is %q", p.Driver)
	}
	granted := map[kubetest.Call]bool{}
	for _, in := range p.Instances {
		tg, err := TargetOf(in)
		if err != nil || tg.Namespace != ns {
			t.Fatalf("instance %s: %v (namespace %q, the kustomization's %q)", in.Name, err, tg.Namespace, ns)
		}
		for _, call := range driverCalls(t, in.Kube) {
			if !allows(role.Rules, call) {
				t.Errorf("the Role does not allow %+v", call)
			}
			granted[kubetest.Call{Group: call.Group, Resource: call.Resource, Verb: call.Verb}] = true
		}
	}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					if !granted[kubetest.Call{Group: g, Resource: res, Verb: v}] {
						t.Errorf("the Role grants %s %s/%s, which the driver never calls", v, g, res)
					}
				}
			}
		}
	}
	checkJob(t, job, p)
}

// allows says whether a rule grants the call (no wildcards: least RBAC).
func allows(rules []rbacv1.PolicyRule, c kubetest.Call) bool {
	res := c.Resource
	if c.Subresource != "" {
		res += "/" + c.Subresource
	}
	for _, r := range rules {
		if slices.Contains(r.APIGroups, c.Group) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, c.Verb) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, c.Name)) {
			return true
		}
	}
	return false
}

// checkJob: the Job runs the ConfigMap's plan as a non-root user, with the
// evidence folder on the PersistentVolumeClaim and the secrets from a
// Secret (never literal values).
func checkJob(t *testing.T, job *batchv1.Job, p *plan.Plan) {
	t.Helper()
	spec := job.Spec.Template.Spec
	if spec.ServiceAccountName != "poolpilot" || spec.RestartPolicy != corev1.RestartPolicyNever || len(spec.Containers) != 1 {
		t.Fatalf("job: service account %q, restart policy %q, %d containers", spec.ServiceAccountName, spec.RestartPolicy, len(spec.Containers))
	}
	sc := spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("job: not run as the non-root user 65532: %+v", sc)
	}
	ctr := spec.Containers[0]
	if strings.Join(ctr.Args[:2], " ") != "run /plan/plan.yaml" {
		t.Errorf("job args %v", ctr.Args)
	}
	mounts := map[string]string{}
	for _, m := range ctr.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	vols := map[string]corev1.VolumeSource{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v.VolumeSource
	}
	if v := vols[mounts["/plan"]]; v.ConfigMap == nil || v.ConfigMap.Name != "poolpilot-plan" {
		t.Errorf("/plan is not the plan's ConfigMap: %+v", v)
	}
	if v := vols[mounts[p.Evidence.Dir]]; v.PersistentVolumeClaim == nil {
		t.Errorf("the plan's evidence.dir %q is not on the PersistentVolumeClaim", p.Evidence.Dir)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		env[e.Name] = e
	}
	for _, name := range []string{p.Database.DSNEnv, p.Instances[0].AdminTokenEnv} {
		if e := env[name]; e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s does not come from a Secret: %+v", name, e)
		}
	}
}
