//go:build unix && !linux

package local

import (
	"os"
	"syscall"
	"time"
)

// Without Linux's namespaces there is no sandbox: bwrap is missing, so
// Probe fails and none of these is reached.

func intoCgroup(*syscall.SysProcAttr, int) {}

type sandboxInit struct{}

func readSandboxInit(*os.File) *sandboxInit   { return nil }
func (*sandboxInit) signalAll(syscall.Signal) {}
func (*sandboxInit) kill()                    {}
func (*sandboxInit) waitGone(time.Duration)   {}
func (*sandboxInit) close()                   {}
