//go:build unix

package proc

import "syscall"

// SysProcAttr returns the attributes for exec.Cmd.SysProcAttr.
func SysProcAttr(a Attr) *syscall.SysProcAttr {
	sa := &syscall.SysProcAttr{Setpgid: a.NewGroup}
	if a.User != nil {
		sa.Credential = &syscall.Credential{Uid: a.User.UID, Gid: a.User.GID}
	}
	setDeathSignal(sa, a.DeathSignal)
	return sa
}

// KillGroup sends SIGKILL to the process group led by pid.
func KillGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
