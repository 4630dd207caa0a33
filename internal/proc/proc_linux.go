package proc

import "syscall"

func setDeathSignal(sa *syscall.SysProcAttr, sig syscall.Signal) { sa.Pdeathsig = sig }
