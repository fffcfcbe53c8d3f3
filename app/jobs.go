package app

import (
	"github.com/riverqueue/river"

	"github.com/stagegate/stagegate/app/queue"
)

// processDeliveryArgs is the job that acts on a stored delivery.
type processDeliveryArgs struct {
	GUID string `json:"guid"`
}

func (processDeliveryArgs) Kind() string { return "process_delivery" }

func (processDeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Deliveries, MaxAttempts: 5}
}

// runArgs is the job that executes a run.
type runArgs struct {
	RunID string `json:"run_id"`
}

func (runArgs) Kind() string { return "run" }

// InsertOpts: River retries a run's job only for errors before the run
// starts (it stays queued until StartRun); once started, a run concludes
// itself, and one interrupted by a stop of the process is picked up by
// the reconciler at the next start, never run twice.
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Runs, MaxAttempts: 5}
}
