//go:build race

package main

// raceEnabled: the race detector slows every goroutine 5–10×.
const raceEnabled = true
