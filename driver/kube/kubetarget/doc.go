// Package kubetarget parses the kube://namespace/deployment[/container]
// target of the Kubernetes driver. It imports neither client-go nor the
// plan, so that plan validation can use it.
package kubetarget
