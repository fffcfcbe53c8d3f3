//go:build !linux

package app

// hardenProcess has no equivalent of PR_SET_DUMPABLE here.
func hardenProcess() error { return nil }
