package poolpilot

import "errors"

// ErrResizeConflict is wrapped by a Pool's Resize when the request conflicts
// with the pool's state (another resize under way, the pool closing); the
// HTTP surface answers it with 409 Conflict.
var ErrResizeConflict = errors.New("resize conflicts with the pool's state")
