package app

import "sync"

// waiters wakes deploy gates when something about their commit changes:
// a check or status reported, an approval given. Gates re-evaluate only
// then, so nothing polls GitHub.
type waiters struct {
	mu sync.Mutex
	m  map[string]map[chan struct{}]struct{} // key: repo@sha
}

// watch returns a channel that receives when repo@sha changes, and a
// function to stop watching.
func (w *waiters) watch(repo, sha string) (<-chan struct{}, func()) {
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

// wake tells the gates watching repo@sha to look again. It never blocks:
// a gate already told and not yet looking will look once.
func (w *waiters) wake(repo, sha string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.m[repo+"@"+sha] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
