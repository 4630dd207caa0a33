package poolpilot

import "time"

// Clock is the source of time for every window and timeout in poolpilot, so
// that "sustained for 5 minutes" can be tested in milliseconds.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
