package web

import "sync"

// Hub wakes the streams of a run's page when the run writes something: a
// batch of log lines, an action or stage starting or ending. A wake-up
// carries no data, only "look again": each stream then reads what it has
// not sent from the store, so a slow reader costs a channel of one, never
// a queue of lines. Streams also read the store every PollEvery, which
// covers a run executing on another replica, whose writes this process's
// hub never hears of.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[string]map[chan struct{}]struct{})} }

// Notify wakes every stream of the run. It never blocks.
func (h *Hub) Notify(runID string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[runID] {
		select {
		case ch <- struct{}{}:
		default: // already woken, not yet looked
		}
	}
}

// subscribe returns a channel that receives after each Notify of the run,
// coalesced, and the function that ends the subscription.
func (h *Hub) subscribe(runID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	m := h.subs[runID]
	if m == nil {
		m = make(map[chan struct{}]struct{})
		h.subs[runID] = m
	}
	m[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(m, ch)
		if len(m) == 0 && h.subs[runID] != nil && len(h.subs[runID]) == 0 {
			delete(h.subs, runID)
		}
	}
}
