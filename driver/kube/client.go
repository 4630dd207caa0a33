package kube

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

// NewClient builds a clientset. With a kubeconfig path it loads that file
// (its current context); with "" it uses the in-cluster service account
// when running in a pod (KUBERNETES_SERVICE_HOST set), else the default
// kubeconfig rules ($KUBECONFIG, then ~/.kube/config).
func NewClient(kubeconfigPath string) (kubernetes.Interface, error) {
	cfg, err := LoadConfig(kubeconfigPath)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, nil
}

// LoadConfig is NewClient's configuration step.
func LoadConfig(kubeconfigPath string) (*rest.Config, error) {
	if paths := filepath.SplitList(kubeconfigPath); len(paths) > 1 {
		rules := &clientcmd.ClientConfigLoadingRules{Precedence: paths}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
		}
		return cfg, nil
	}
	if kubeconfigPath != "" {
		if _, err := os.Stat(kubeconfigPath); err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
		}
		return cfg, nil
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster kubernetes config: %w", err)
		}
		return cfg, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes config: not in a cluster and no usable kubeconfig ($KUBECONFIG or ~/.kube/config): %w", err)
	}
	return cfg, nil
}

// New builds the driver for a plan: a client from kubeconfig (a path, a
// $KUBECONFIG-style list, or "" for in-cluster / default rules), From =
// change.from, Run = the plan's SHA-256 (so a snapshot is only restored by
// the run of the same plan), Timeout = rollout.rollout_timeout (0: the
// default). When no client can be built it returns the driver anyway with
// a *driver.UnreachableError: without a client it can describe its change
// (run --dry-run) and answer preflight's fleet questions with the error,
// not apply.
func New(p *plan.Plan, kubeconfig string) (*Driver, error) {
	d := &Driver{From: p.Change.From, Run: p.SHA256(), Timeout: p.Rollout.RolloutTimeout.D()}
	cs, err := NewClient(kubeconfig)
	if err != nil {
		d.clientErr = err
		return d, &driver.UnreachableError{Driver: plan.DriverKube, What: "cluster", Err: err}
	}
	d.Client = cs
	return d, nil
}

// unreachable is why the driver has no client.
func (d *Driver) unreachable() error {
	if d.clientErr != nil {
		return d.clientErr
	}
	return fmt.Errorf("driver kube: no Kubernetes client")
}
