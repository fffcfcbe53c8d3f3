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
