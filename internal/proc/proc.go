package proc

import "syscall"

// User is the user a child process runs as.
type User struct{ UID, GID uint32 }

// Attr says how to start a child process.
type Attr struct {
	// User, when set, is the user to run as (needs root; unix only).
	User *User
	// NewGroup puts the child in its own process group (unix only), so
	// that KillGroup reaches its own children too.
	NewGroup bool
	// DeathSignal is sent to the child when its parent dies (Linux only;
	// 0 for none).
	DeathSignal syscall.Signal
}
