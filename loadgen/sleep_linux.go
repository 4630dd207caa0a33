//go:build linux

package loadgen

import (
	"syscall"
	"time"
)

// fineSleep sleeps d (at most a couple of milliseconds) with nanosleep.
// The Go runtime's timers wake from epoll with millisecond granularity when
// a wait is shorter than a millisecond, which would add up to 1 ms of
// scheduling lag to every request; nanosleep is precise to tens of
// microseconds and burns no CPU.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
