package app

import "golang.org/x/sys/unix"

// hardenProcess makes stagegate non-dumpable: its /proc/<pid>/environ
// and memory are then readable only by root, not by the builds it starts
// as the same user, while its environment holds the App's private key and
// webhook secret.
func hardenProcess() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
