// Package kube is the Kubernetes apply driver: it patches a Deployment's
// container env (DB_POOL_MAX, DB_POOL_MIN), which starts a rolling restart,
// and waits for the rollout to finish. It is the only package that imports
// client-go.
//
// A plan instance names its Deployment with a target URL in admin_url:
//
//	kube://<namespace>/<deployment>[/<container>]
//
// Before the first patch the driver records the container's previous env
// values (a Snapshot) in an annotation of the Deployment, in the same patch,
// so that a rollback — even one resumed after a crash — restores exactly
// what was there (a value, a valueFrom reference, or no variable at all),
// not a guess. Verification through the pods' /healthz is the controller's
// job: give the instance's health_url a Service URL (or a port-forward).
//
// ReadFleet reads the connection-budget inputs: the Deployment's replicas,
// its HorizontalPodAutoscaler's maxReplicas (autoscaling/v2) and the
// rolling update's maxSurge (absolute or percent, rounded up as Kubernetes
// does).
package kube
