package local

import "syscall"

// sysProcAttr puts the command in its own process group, and kills it if
// stagegate itself dies, so a crash leaves no build running unobserved.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
