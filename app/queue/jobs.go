package queue

import (
	"github.com/riverqueue/river"
)

// ProcessDeliveryArgs is the job that acts on a stored delivery.
type ProcessDeliveryArgs struct {
	GUID string `json:"guid"`
}

func (ProcessDeliveryArgs) Kind() string { return "process_delivery" }

func (ProcessDeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Deliveries, MaxAttempts: 5}
}

// RunArgs is the job that executes a run.
type RunArgs struct {
	RunID string `json:"run_id"`
}

func (RunArgs) Kind() string { return "run" }

// InsertOpts: River retries a run's job only for errors before the run
// starts (it stays queued until StartRun); once started, a run concludes
// itself, and one interrupted by a stop of the process is picked up by
// the reconciler at the next start, never run twice.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Runs, MaxAttempts: 5}
}
