// Package runner defines how the engine executes one action's command.
// The local process runner lives in runner/local; remote runners (AWS
// CodeBuild, in the top-level codebuild package) implement the same
// interface and use Spec.Remote.
package runner

import (
	"context"
	"io"
	"time"

	"github.com/stagegate/stagegate/pipeline"
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
	// Remote is what a runner that executes the command elsewhere needs;
	// the local runner ignores it.
	Remote Remote
}

// Remote describes an action for a runner that ships it to another
// machine. Env then holds host paths (PATH, HOME, TMPDIR and
// STAGEGATE_WORKSPACE, STAGEGATE_OUTPUT, STAGEGATE_ARTIFACTS) that such a
// runner replaces with its own.
type Remote struct {
	// Runner is the action's runner: parameters from the pipeline.
	Runner *pipeline.RunnerSpec
	// AWS is the action's effective aws: (role and region), nil if none.
	AWS *pipeline.AWS
	// RunID, Stage, Action and Attempt name the attempt, for names the
	// runner makes on the remote side.
	RunID, Stage, Action string
	Attempt              int
	// Workspace is the directory to ship; Dir is inside it. The runner
	// writes the command's changes to it back before Run returns.
	Workspace string
	// OutputFile is where the runner writes the outputs the command set,
	// as KEY=value lines, for the engine to read as it reads a local
	// command's $STAGEGATE_OUTPUT.
	OutputFile string
	// Artifacts is the directory of the earlier stages' artifacts
	// ($STAGEGATE_ARTIFACTS here), for the runner to ship read-only
	// beside the workspace; "" when there is none.
	Artifacts string
	// Secret names the variables of Env whose values hold secrets: a
	// remote runner must not send them in plain text.
	Secret map[string]bool
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
	// Reason says why a command with a non-zero ExitCode failed, where
	// the runner knows better than the code, such as a remote build's
	// failed phase; empty means "exit code N".
	Reason string
}

// Runner executes commands. Run returns once the command and everything
// it started have ended. When ctx ends, the runner stops the command
// (politely first, then by force) and returns with Killed set. An error
// means the command could not be run at all.
type Runner interface {
	Run(ctx context.Context, spec Spec) (Result, error)
}
