// Package kubetest is a fake Kubernetes cluster for the tests of the kube
// driver, of the controller with that driver, and of fleets.
//
// client-go's fake clientset stores objects but runs no controllers, and
// the kube driver depends on two things it lacks: the API server bumping
// metadata.generation when a patch changes a Deployment's spec, and a
// deployment controller moving the rollout forward. Cluster adds both; its
// rollout moves one step each time Wait (the driver's and the controller's
// Wait hook) advances the fake clock (sim.Clock), so a rollout of minutes is tested in
// microseconds. Prober reports the pool the running pods use, as /healthz
// behind the Deployment's Service would.
//
// It is a test harness: only tests import it. It must not import
// driver/kube, or a package that does: its in-package tests use this one.
package kubetest
