//go:build unix

package engine

import "syscall"

// noFollow opens a file an action wrote without following a link in its
// last element and without blocking on a FIFO: the engine reads it with
// its own rights, outside any sandbox the action ran in.
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
