//go:build !linux

package loadgen

import "time"

// fineSleep sleeps d; see sleep_linux.go.
func fineSleep(d time.Duration) { time.Sleep(d) }
