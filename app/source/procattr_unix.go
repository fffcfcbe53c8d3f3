//go:build unix

package source

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel puts git in a process group of its own and kills the
// whole group when the context ends: git fetch works through children
// (git-remote-https, index-pack) that killing git alone would orphan,
// still downloading and holding the output pipes open.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
