//go:build !unix

package source

import "os/exec"

// killGroupOnCancel keeps exec's default, killing git alone: there are no
// process groups to use here. WaitDelay still bounds the wait.
func killGroupOnCancel(*exec.Cmd) {}
