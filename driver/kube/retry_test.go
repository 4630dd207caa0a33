package kube

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/poolpilot/poolpilot/internal/kubetest"
)

// failFirst makes the first len(errs) calls of verb on deployments fail
// with errs, in order; it returns how many calls it saw.
func failFirst(c *kubetest.Cluster, verb string, errs ...error) *int {
	n := new(int)
	c.Clientset.PrependReactor(verb, "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		*n++
		if *n <= len(errs) {
			return true, nil, errs[*n-1]
		}
		return false, nil, nil
	})
	return n
}

var gr = schema.GroupResource{Group: "apps", Resource: "deployments"}

func TestApplyRetriesTransientAPIFailures(t *testing.T) {
	c := kubetest.New(t, deployment("prod", "ledgerd", 2, []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}}))
	patches := failFirst(c, "patch", apierrors.NewConflict(gr, "ledgerd", nil), apierrors.NewServiceUnavailable("apiserver restarting"))
	gets := 0
	c.Clientset.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		gets++
		if gets == 4 { // a read during the rollout wait
			return true, nil, apierrors.NewInternalError(errBlip)
		}
		return false, nil, nil
	})
	d := driverOn(c, seedFrom)
	var log bytes.Buffer
	if err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedTo, &log); err != nil {
		t.Fatalf("apply: %v\n%s", err, log.String())
	}
	if *patches != 3 {
		t.Errorf("%d patch calls, want 3 (two failures, then the patch)", *patches)
	}
	if got := envOf(t, c.Get("prod", "ledgerd"), "app"); got[0].Value != "200" {
		t.Errorf("env after apply %v", got)
	}
	for _, want := range []string{"attempt 1 failed (transient)", "attempt 2 failed (transient)", "succeeded at attempt 3", "reading the rollout failed (transient)", "rollout complete"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestApplyDoesNotRetryForbidden(t *testing.T) {
	c := kubetest.New(t, deployment("prod", "ledgerd", 1, nil))
	patches := failFirst(c, "patch", apierrors.NewForbidden(gr, "ledgerd", errBlip), apierrors.NewForbidden(gr, "ledgerd", errBlip))
	d := driverOn(c, seedFrom)
	var log bytes.Buffer
	err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedTo, &log)
	if err == nil || !strings.Contains(err.Error(), "forbidden") || *patches != 1 {
		t.Errorf("err %v after %d patch calls, want forbidden after 1\n%s", err, *patches, log.String())
	}
}

var errBlip = blip("blip")

type blip string

func (b blip) Error() string { return string(b) }
