package local

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// intoCgroup starts the command inside the cgroup open as fd.
func intoCgroup(attr *syscall.SysProcAttr, fd int) {
	attr.UseCgroupFD = true
	attr.CgroupFD = fd
}

// sandboxInit is the pid 1 of a running sandbox, as the host sees it.
//
// bwrap exits as soon as the command does, when its init has been told
// but before the init itself has exited, and only the init's exit makes
// the kernel end the other processes of the pid namespace, such as a
// daemon. So the runner waits for the init, through a pidfd, before it
// says the command has ended.
type sandboxInit struct {
	pid   int
	pidfd int // -1 when the init was gone already
}

// readSandboxInit reads bwrap's --info-fd, which it writes once the
// sandbox's init is cloned, and opens the init. nil when bwrap wrote
// nothing: it failed before.
func readSandboxInit(info *os.File) *sandboxInit {
	var buf []byte
	chunk := make([]byte, 512)
	for !bytes.ContainsRune(buf, '}') && len(buf) < 64<<10 {
		n, err := info.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			break
		}
	}
	var v struct {
		ChildPid int    `json:"child-pid"`
		PidNS    uint64 `json:"pid-namespace"`
	}
	if json.Unmarshal(buf, &v) != nil || v.ChildPid <= 0 {
		return nil
	}
	fd, err := unix.PidfdOpen(v.ChildPid, 0)
	if err != nil {
		// Gone already, and its namespace with it.
		return &sandboxInit{pid: v.ChildPid, pidfd: -1}
	}
	// A fast command's init may have exited and been reaped before the
	// pidfd was opened, and its pid reused: a live process of another
	// pid namespace is not the init. (A zombie has no namespace left to
	// show, and is harmless to wait for.)
	if ns, err := os.Readlink("/proc/" + strconv.Itoa(v.ChildPid) + "/ns/pid"); err == nil && v.PidNS != 0 && ns != "pid:["+strconv.FormatUint(v.PidNS, 10)+"]" {
		_ = unix.Close(fd)
		return &sandboxInit{pid: v.ChildPid, pidfd: -1}
	}
	return &sandboxInit{pid: v.ChildPid, pidfd: fd}
}

// signalAll sends sig to every process of the sandbox's pid namespace but
// its init: the processes a script left in other process groups or
// sessions hear it too, as the script's group would outside.
func (s *sandboxInit) signalAll(sig syscall.Signal) {
	ns, err := os.Readlink("/proc/" + strconv.Itoa(s.pid) + "/ns/pid")
	if err != nil {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == s.pid {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
			_ = syscall.Kill(pid, sig)
		}
	}
}

// kill ends the sandbox at once: when its init dies the kernel kills
// every process of its pid namespace.
func (s *sandboxInit) kill() {
	if s.pidfd >= 0 {
		_ = unix.PidfdSendSignal(s.pidfd, unix.SIGKILL, nil, 0)
	}
}

// waitGone waits until the init has exited, which it does only after
// every other process of its namespace; after timeout it kills them.
func (s *sandboxInit) waitGone(timeout time.Duration) {
	if s.pidfd < 0 {
		return
	}
	if !s.poll(timeout) {
		s.kill()
		s.poll(timeout)
	}
}

func (s *sandboxInit) poll(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		fds := []unix.PollFd{{Fd: int32(s.pidfd), Events: unix.POLLIN}}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0
	}
}

func (s *sandboxInit) close() {
	if s.pidfd >= 0 {
		_ = unix.Close(s.pidfd)
	}
}
