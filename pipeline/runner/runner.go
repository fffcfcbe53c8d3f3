// Package runner defines how the engine executes one action's command.
// The local process runner lives in runner/local; remote runners (AWS
// CodeBuild) implement the same interface.
package runner

import (
	"context"
	"io"
	"time"
)

// Spec is one command to run.
type Spec struct {
	// Script is run by a POSIX shell with -e.
	Script string
	// Dir is the working directory.
	Dir string
	// Env is the complete environment of the command, as KEY=value. The
	// runner adds nothing to it: no variable of the runner's own process
	// may reach the command.
	Env []string
	// Stdout and Stderr receive the command's output. They are written
	// from different goroutines, but each one from a single goroutine.
	Stdout, Stderr io.Writer
	// Access is what of the host's file system the command may see, for
	// runners that isolate it; a runner that does not ignores it.
	Access Access
	// Limits bound the command's resources where the runner can; zero
	// fields take the runner's defaults.
	Limits Limits
}

// Access names host paths by absolute path. An isolating runner shows the
// command a minimal system (the programs and libraries under /usr, a few
// files of /etc, an empty /tmp, its own /proc and /dev) and, besides,
// only what is listed here. Paths that do not exist are left out.
type Access struct {
	// Writable paths are visible and writable: the workspace, HOME,
	// TMPDIR, the directory of the output file. Dir is always writable.
	Writable []string
	// ReadOnly paths are visible and cannot be changed, such as the
	// artifacts of earlier stages.
	ReadOnly []string
	// Hidden paths are covered by an empty directory wherever the rest
	// would show them: the data dir, the database, credentials, other
	// runs' workspaces. A Writable or ReadOnly path inside a Hidden one
	// is still visible.
	Hidden []string
}

// Limits are per-command resource limits. Zero means the runner's
// default; a runner caps each at its own maximum.
type Limits struct {
	// Pids is the most processes and threads the command may have.
	Pids int64
	// MemoryBytes is the most memory the command may use.
	MemoryBytes int64
	// CPUWeight is its share of CPU time against other commands, from 1
	// to 10000 (100 is the usual default).
	CPUWeight int64
}

// Result is how a command ended. A non-zero exit is a result, not an
// error.
type Result struct {
	// ExitCode is the command's exit status, or -1 when a signal ended it.
	ExitCode int
	// Killed is set when the runner stopped the command because ctx ended.
	Killed   bool
	Duration time.Duration
}

// Runner executes commands. Run returns once the command and everything
// it started have ended. When ctx ends, the runner stops the command
// (politely first, then by force) and returns with Killed set. An error
// means the command could not be run at all.
type Runner interface {
	Run(ctx context.Context, spec Spec) (Result, error)
}
