package proc

import (
	"os"
	"syscall"
)

// SysProcAttr returns the attributes for exec.Cmd.SysProcAttr. On Windows
// a child runs as the current user; User, NewGroup and DeathSignal do not
// apply.
func SysProcAttr(Attr) *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// KillGroup kills the process pid (Windows has no process groups to
// signal).
func KillGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
