//go:build unix

package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// Mode says whether actions run in the sandbox.
type Mode string

const (
	// ModeRequired runs no action without a working sandbox.
	ModeRequired Mode = "required"
	// ModeAuto uses the sandbox when it works, and warns when it does
	// not.
	ModeAuto Mode = "auto"
	// ModeOff runs actions as this process's user, unsandboxed.
	ModeOff Mode = "off"
)

// ParseMode reads a --sandbox value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeRequired, ModeAuto, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("must be required, auto or off, not %q", s)
}

// Config configures the runner NewRunner makes.
type Config struct {
	Mode Mode
	// Grace is the time between SIGTERM and SIGKILL.
	Grace time.Duration
	// Bwrap is the bubblewrap program; "bwrap" on PATH when empty.
	Bwrap string
	// Expose and Hidden are the Sandbox's.
	Expose, Hidden []string
	// Cgroups asks for each action's cgroup where cgroup v2 is delegated,
	// which moves this process into a cgroup of its own: a server's
	// choice, not a command line's.
	Cgroups bool
	// CgroupRoot is where cgroup v2 is mounted; /sys/fs/cgroup when
	// empty.
	CgroupRoot string
	// DefaultLimits and MaxLimits are the Cgroups'.
	DefaultLimits, MaxLimits runner.Limits
}

// NewRunner makes the runner for c.Mode, checking first that the sandbox
// works. Notes are what the caller should say once at start: what the
// sandbox cannot do here, or that it is off. In ModeRequired a sandbox
// that does not work is an error, a *SandboxError saying why and how to
// fix it.
func NewRunner(ctx context.Context, c Config) (r *Runner, notes []string, err error) {
	r = &Runner{Grace: c.Grace}
	switch c.Mode {
	case ModeOff:
		return r, nil, nil
	case ModeRequired, ModeAuto:
	default:
		return nil, nil, fmt.Errorf("sandbox mode %q: must be required, auto or off", c.Mode)
	}
	sb := &Sandbox{Bwrap: c.Bwrap, Expose: c.Expose, Hidden: c.Hidden}
	if err := sb.Probe(ctx); err != nil {
		if c.Mode == ModeRequired {
			return nil, nil, err
		}
		return r, []string{err.Error() + "; actions run unsandboxed (--sandbox=auto)"}, nil
	}
	r.Sandbox = sb
	if !c.Cgroups {
		return r, nil, nil
	}
	root := c.CgroupRoot
	if root == "" {
		root = "/sys/fs/cgroup"
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	support := DetectCgroups(root, self)
	if len(support.Controllers) > 0 {
		cg, err := EnableCgroups(support, c.DefaultLimits, c.MaxLimits)
		if err != nil {
			support.Missing, support.Reason = support.Controllers, err.Error()
		} else {
			sb.Cgroups = cg
		}
	}
	if msg := support.Message(); msg != "" {
		notes = append(notes, msg)
	}
	return r, notes, nil
}

// SandboxError is a sandbox that does not work: why, and how to fix it.
type SandboxError struct {
	Why, Fix string
}

func (e *SandboxError) Error() string {
	return "the sandbox does not work: " + e.Why + "; " + e.Fix
}

// Probe runs `true` in the sandbox as an action would run, and tells why
// it fails when it does.
func (s *Sandbox) Probe(ctx context.Context) error {
	if runtime.GOOS != "linux" {
		return &SandboxError{Why: "it is made of Linux namespaces, and this is " + runtime.GOOS, Fix: "run on Linux, or give --sandbox=off knowingly"}
	}
	bwrap, err := s.path()
	if err != nil {
		return &SandboxError{Why: "bubblewrap (bwrap) is not installed", Fix: "install it: apt-get install bubblewrap (dnf install bubblewrap, apk add bubblewrap)"}
	}
	s.Bwrap = bwrap
	help, _ := exec.CommandContext(ctx, bwrap, "--help").CombinedOutput()
	s.disableUserns = bytes.Contains(help, []byte("--disable-userns"))
	s.tmpfsSize = bytes.Contains(help, []byte("--size"))
	dir, err := os.MkdirTemp("", "stagegate-probe-")
	if err != nil {
		return fmt.Errorf("sandbox probe: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := append(s.args(runner.Spec{Dir: dir, Access: runner.Access{Writable: []string{dir}}}), "/bin/sh", "-c", "true")
	cmd := exec.CommandContext(ctx, bwrap, args...)
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return diagnose(msg, "/")
	}
	return nil
}

// path is bwrap's absolute path.
func (s *Sandbox) path() (string, error) {
	b := s.Bwrap
	if b == "" {
		b = "bwrap"
	}
	return exec.LookPath(b)
}

// diagnose turns bwrap's complaint into the cause and its fix, reading
// the kernel's settings under root ("/" but in tests).
func diagnose(msg, root string) *SandboxError {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	why := "bwrap failed: " + msg
	switch {
	case read("proc/sys/kernel/unprivileged_userns_clone") == "0":
		return &SandboxError{Why: why + " (unprivileged user namespaces are disabled)",
			Fix: "enable them: sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it)"}
	case read("proc/sys/user/max_user_namespaces") == "0":
		return &SandboxError{Why: why + " (user namespaces are disabled: user.max_user_namespaces is 0)",
			Fix: "enable them: sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/ to keep it)"}
	case read("proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
		return &SandboxError{Why: why + " (AppArmor restricts unprivileged user namespaces)",
			Fix: "allow bwrap an AppArmor profile with the userns permission, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"}
	case inContainer(root):
		return &SandboxError{Why: why + " (in a container whose seccomp or AppArmor profile forbids namespaces)",
			Fix: "run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (or a seccomp profile that allows clone and unshare of namespaces), or give --sandbox=off knowingly"}
	}
	return &SandboxError{Why: why, Fix: "check that this user may create user namespaces (unshare -Ur true), or give --sandbox=off knowingly"}
}

// inContainer guesses whether this process runs in a container.
func inContainer(root string) bool {
	for _, p := range []string{".dockerenv", "run/.containerenv"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return true
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "proc/1/cgroup"))
	return err == nil && (bytes.Contains(b, []byte("docker")) || bytes.Contains(b, []byte("kubepods")) || bytes.Contains(b, []byte("containerd")))
}

// errNoDir is returned for a working directory that is missing, which
// bwrap would report only as an exit status.
var errNoDir = errors.New("the working directory is not a directory")
