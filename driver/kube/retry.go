package kube

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/poolpilot/poolpilot/driver"
)

// transient reports whether a Kubernetes API failure is worth retrying: a
// conflict (409), a server timeout, throttling (429), an internal or
// unavailable server (5xx), or a network failure (driver.IsTransient).
// Forbidden, unauthorized, invalid and not-found are not.
func transient(err error) bool {
	switch {
	case apierrors.IsConflict(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err), apierrors.IsServiceUnavailable(err),
		apierrors.IsUnexpectedServerError(err):
		return true
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err), apierrors.IsInvalid(err),
		apierrors.IsNotFound(err), apierrors.IsBadRequest(err):
		return false
	}
	if code := apiStatus(err); code != 0 {
		return driver.TransientStatus(code)
	}
	return driver.IsTransient(err)
}

func apiStatus(err error) int {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return int(se.Status().Code)
	}
	return 0
}

// retry is the driver's policy: Retry with the Kubernetes classifier,
// within the rollout timeout unless Retry.Within says otherwise.
func (d *Driver) retry() driver.Retry {
	r := d.Retry
	r.Transient = transient
	if r.Within == 0 {
		r.Within = d.timeout()
	}
	if r.Now == nil && d.Clock != nil {
		r.Now = d.Clock.Now
	}
	if r.Sleep == nil && d.Wait != nil {
		r.Sleep = d.Wait
	}
	return r
}
