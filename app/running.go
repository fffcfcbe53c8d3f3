package app

import (
	"context"
	"sync"
)

// runningRuns holds the cancel functions of the runs executing in this
// process, so that a newer push (superseded mode), a closed pull request
// or a /cancel can stop them with a reason.
type runningRuns struct {
	mu     sync.Mutex
	cancel map[string]context.CancelCauseFunc
}

func (r *runningRuns) add(runID string, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		r.cancel = map[string]context.CancelCauseFunc{}
	}
	r.cancel[runID] = cancel
}

func (r *runningRuns) remove(runID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cancel, runID)
}

// stop cancels a running run with cause; it reports whether the run was
// running here.
func (r *runningRuns) stop(runID string, cause error) bool {
	r.mu.Lock()
	cancel, ok := r.cancel[runID]
	r.mu.Unlock()
	if ok {
		cancel(cause)
	}
	return ok
}

// stopAll cancels every running run with cause.
func (r *runningRuns) stopAll(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cancel := range r.cancel {
		cancel(cause)
	}
}
