package web

import "github.com/stagegate/stagegate/internal/fanout"

// Hub wakes the streams of a run's page when the run writes something: a
// batch of log lines, an action or stage starting or ending. A wake-up
// carries no data, only "look again": each stream then reads what it has
// not sent from the store, so a slow reader costs a channel of one, never
// a queue of lines. Streams also read the store every PollEvery, which
// covers a run executing on another replica, whose writes this process's
// hub never hears of.
type Hub struct {
	streams fanout.Keyed[struct{}] // key: run id
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{} }

// Notify wakes every stream of the run. It never blocks.
func (h *Hub) Notify(runID string) {
	if h == nil {
		return
	}
	h.streams.Send(runID, struct{}{})
}

// subscribe returns a channel that receives after each Notify of the run,
// coalesced, and the function that ends the subscription.
func (h *Hub) subscribe(runID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	return ch, h.streams.Add(runID, ch)
}
