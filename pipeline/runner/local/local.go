//go:build unix

// Package local runs commands as processes on this machine, each in its
// own process group so that a stop reaches everything it started.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// DefaultGrace is the time between SIGTERM and SIGKILL when none is set.
const DefaultGrace = 10 * time.Second

// drainTimeout bounds the wait for output after the process group is
// gone: a process that left the group (setsid) may still hold the pipes.
const drainTimeout = 2 * time.Second

// Runner runs scripts with /bin/sh -e -c. The zero value is ready to use
// and runs them unsandboxed; NewRunner makes one for a Mode.
type Runner struct {
	// Grace is how long a stopped command may take to exit after SIGTERM
	// before its process group gets SIGKILL.
	Grace time.Duration
	// Shell is the POSIX shell; /bin/sh when empty.
	Shell string
	// Sandbox, when set, runs every command inside it, and a command
	// that cannot have it does not run.
	Sandbox *Sandbox
}

var _ runner.Runner = (*Runner)(nil)

// Run starts spec.Script in a new process group, or in the sandbox, and
// waits for it. When ctx ends, the group (every process of the sandbox)
// gets SIGTERM, then SIGKILL after the grace period. When the script
// exits, whatever it left running in its group (in the sandbox) is
// killed, so no action outlives its result.
func (r *Runner) Run(ctx context.Context, spec runner.Spec) (runner.Result, error) {
	shell := r.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	env := spec.Env
	if env == nil {
		// A nil Env makes os/exec inherit this process's environment,
		// which holds the app's secrets.
		env = []string{}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return runner.Result{}, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return runner.Result{}, fmt.Errorf("stderr pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path:        shell,
		Args:        []string{"sh", "-e", "-c", spec.Script},
		Dir:         spec.Dir,
		Env:         env,
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: sysProcAttr(),
	}
	var sandboxed *wrapped
	if r.Sandbox != nil {
		if sandboxed, err = r.Sandbox.wrap(cmd, spec); err != nil {
			closeAll(outR, outW, errR, errW)
			return runner.Result{}, err
		}
		defer sandboxed.close()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		closeAll(outR, outW, errR, errW)
		return runner.Result{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	// The child has its own copies; ours must close so EOF can arrive.
	closeAll(outW, errW)
	var copying sync.WaitGroup
	copying.Add(2)
	go copyOut(&copying, spec.Stdout, outR)
	go copyOut(&copying, spec.Stderr, errR)
	var init *sandboxInit
	if sandboxed != nil {
		_ = sandboxed.infoW.Close()
		if init = readSandboxInit(sandboxed.infoR); init != nil {
			defer init.close()
		}
	}

	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	killed := false
	select {
	case <-exited:
	case <-ctx.Done():
		killed = true
		if init != nil {
			r.stopSandbox(init, exited)
		} else {
			r.stop(pgid, exited)
		}
	}
	// Stragglers in the group would keep the pipes open and run on
	// unobserved. In the sandbox, they end with its init.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if init != nil {
		init.waitGone(drainTimeout)
	}
	drain(&copying, outR, errR)
	closeAll(outR, errR)

	res := runner.Result{
		ExitCode: cmd.ProcessState.ExitCode(),
		Killed:   killed,
		Duration: time.Since(start),
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return res, fmt.Errorf("wait: %w", waitErr)
	}
	return res, nil
}

// stop asks the group to end, then forces it after the grace period.
func (r *Runner) stop(pgid int, exited <-chan struct{}) {
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
}

// stopSandbox asks every process of the sandbox to end, then ends the
// sandbox by force after the grace period.
func (r *Runner) stopSandbox(init *sandboxInit, exited <-chan struct{}) {
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	init.signalAll(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		init.kill()
		<-exited
	}
}

func copyOut(wg *sync.WaitGroup, w io.Writer, r io.Reader) {
	defer wg.Done()
	if w == nil {
		w = io.Discard
	}
	// A failing writer must not block the child on a full pipe.
	if _, err := io.Copy(w, r); err != nil {
		_, _ = io.Copy(io.Discard, r)
	}
}

// drain waits for the output copies to finish, and cuts them off when a
// process outside the group still holds the pipes.
func drain(wg *sync.WaitGroup, pipes ...*os.File) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		closeAll(pipes...)
		<-done
	}
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}
