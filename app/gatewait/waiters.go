// Package gatewait is what a deploy gate waits on: a wake-up when its
// commit changes, its environment's lock, and a delay before reading
// again what GitHub did not answer.
package gatewait

import "sync"

// Waiters wakes deploy gates when something about their commit changes:
// a check or status reported, an approval given. Gates re-evaluate only
// then, so nothing polls GitHub.
type Waiters struct {
	mu sync.Mutex
	m  map[string]map[chan struct{}]struct{} // key: repo@sha
}

// Watch returns a channel that receives when repo@sha changes, and a
// function to stop watching.
func (w *Waiters) Watch(repo, sha string) (<-chan struct{}, func()) {
	key := repo + "@" + sha
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = map[string]map[chan struct{}]struct{}{}
	}
	if w.m[key] == nil {
		w.m[key] = map[chan struct{}]struct{}{}
	}
	w.m[key][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.m[key], ch)
		if len(w.m[key]) == 0 {
			delete(w.m, key)
		}
	}
}

// Wake tells the gates watching repo@sha to look again. It never blocks:
// a gate already told and not yet looking will look once.
func (w *Waiters) Wake(repo, sha string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.m[repo+"@"+sha] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// WakeAll tells every gate to look again: after notifications from other
// replicas may have been missed.
func (w *Waiters) WakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, chans := range w.m {
		for ch := range chans {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}
