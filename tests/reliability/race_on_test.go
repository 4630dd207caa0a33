//go:build race

package reliability

// raceEnabled: the race detector slows every goroutine 5–10×; rate-bound
// tests scale down under it.
const raceEnabled = true
