package app

import "context"

// buildSlots bounds the runs that execute at once. A run waiting at a
// deploy gate, possibly for days, gives its slot back while it waits, so
// approvals pending on a few pull requests never stop the others' builds.
type buildSlots chan struct{}

// slot is one run's hold on a build slot.
type slot struct {
	slots buildSlots
	held  bool
}

func (s *slot) acquire(ctx context.Context) error {
	if s.held {
		return nil
	}
	select {
	case s.slots <- struct{}{}:
		s.held = true
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *slot) release() {
	if s.held {
		<-s.slots
		s.held = false
	}
}
