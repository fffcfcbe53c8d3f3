package running

import "context"

// Slots bounds the runs that execute at once. A run waiting at a
// deploy gate, possibly for days, gives its slot back while it waits, so
// approvals pending on a few pull requests never stop the others' builds.
type Slots chan struct{}

// Hold is a run's hold on s, holding no slot yet.
func (s Slots) Hold() *Slot { return &Slot{slots: s} }

// Slot is one run's hold on a build slot.
type Slot struct {
	slots Slots
	held  bool
}

// Acquire waits for a build slot, unless the run holds one.
func (s *Slot) Acquire(ctx context.Context) error {
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

// Release gives the slot back, if the run holds one.
func (s *Slot) Release() {
	if s.held {
		<-s.slots
		s.held = false
	}
}
