package faultproxy

import "context"

// contextBackground is the context toxiproxy's ResetToxics takes; removing a
// toxic does no I/O that a caller could cancel.
func contextBackground() context.Context { return context.Background() }
