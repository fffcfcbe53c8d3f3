// Package outcome is what handling a delivery can come to besides a
// result or a failure: nothing to do, and why. Every package that handles
// events returns it, and the delivery worker records its reason.
package outcome

import "fmt"

// Ignored marks a delivery that needs nothing done; Why is recorded as
// the delivery's result.
type Ignored struct{ Why string }

func (e Ignored) Error() string { return e.Why }

// Ignore is an Ignored whose reason is formatted as fmt.Sprintf does.
func Ignore(format string, args ...any) error {
	return Ignored{Why: fmt.Sprintf(format, args...)}
}
