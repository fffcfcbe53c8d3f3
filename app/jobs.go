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

// InsertOpts: a run is attempted once by River. The run itself records
// how it ended; a run interrupted by a stop of the process is picked up
// by the reconciler at the next start, not by a retry that would run the
// builds twice.
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Runs, MaxAttempts: 1}
}
