// Package running is what this process executes: the build slots that
// bound the runs executing at once, and the runs executing, to cancel.
package running

import (
	"context"
	"sync"
)

// Runs holds the cancel functions of the runs executing in this
// process, so that a newer push (superseded mode), a closed pull request
// or a /cancel can stop them with a reason.
type Runs struct {
	mu     sync.Mutex
	cancel map[string]context.CancelCauseFunc
}

// Add registers a run executing here and how to cancel it.
func (r *Runs) Add(runID string, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		r.cancel = map[string]context.CancelCauseFunc{}
	}
	r.cancel[runID] = cancel
}

// Remove forgets a run that ended.
func (r *Runs) Remove(runID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cancel, runID)
}

// Stop cancels a running run with cause; it reports whether the run was
// running here.
func (r *Runs) Stop(runID string, cause error) bool {
	r.mu.Lock()
	cancel, ok := r.cancel[runID]
	r.mu.Unlock()
	if ok {
		cancel(cause)
	}
	return ok
}

// StopAll cancels every running run with cause.
func (r *Runs) StopAll(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cancel := range r.cancel {
		cancel(cause)
	}
}
