//go:build !unix

package engine

// noFollow: elsewhere there is no sandbox to stay inside of.
const noFollow = 0
