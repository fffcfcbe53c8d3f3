// Package gatewait is what a deploy gate waits on: a wake-up when its
// commit changes, its environment's lock, and a delay before reading
// again what GitHub did not answer.
package gatewait

import "github.com/stagegate/stagegate/internal/fanout"

// Waiters wakes deploy gates when something about their commit changes:
// a check or status reported, an approval given. Gates re-evaluate only
// then, so nothing polls GitHub.
type Waiters struct {
	gates fanout.Keyed[struct{}] // key: repo@sha
}

// Watch returns a channel that receives when repo@sha changes, and a
// function to stop watching.
func (w *Waiters) Watch(repo, sha string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	return ch, w.gates.Add(repo+"@"+sha, ch)
}

// Wake tells the gates watching repo@sha to look again. It never blocks:
// a gate already told and not yet looking will look once.
func (w *Waiters) Wake(repo, sha string) { w.gates.Send(repo+"@"+sha, struct{}{}) }

// WakeAll tells every gate to look again: after notifications from other
// replicas may have been missed.
func (w *Waiters) WakeAll() { w.gates.SendAll(struct{}{}) }
