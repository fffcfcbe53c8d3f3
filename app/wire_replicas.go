package app

import (
	"context"
	"time"

	"github.com/stagegate/stagegate/app/replica"
	"github.com/stagegate/stagegate/app/store"
)

// The App's part in the replicas sharing its database (app/replica):
// what executes here is leased, cancels and gate wake-ups travel through
// the store, and the housekeeping is done by one replica at a time.

// housekeepingRole is the role of the replica that prunes the store and
// catches up missed deliveries.
const housekeepingRole = "housekeeping"

func (a *App) newReplica() *replica.Replica {
	return replica.New(replica.Options{
		DB: a.db, Log: a.log, TTL: a.opts.LeaseTTL, Beat: a.opts.LeaseBeat,
		// One process at a time uses an SQLite database.
		Exclusive: a.db.Dialect() == "sqlite",
		Recover: func(ctx context.Context, run store.Run) error {
			return a.restartRun(ctx, run, "stagegate stopped while this run was in progress")
		},
		Cancelled: func(reason string) error { return errCancelled{why: reason} },
		Wake:      a.waiters.Wake,
		WakeAll:   a.waiters.WakeAll,
	})
}

// stopRun cancels a run that executes here or on another replica with
// cause, and reports whether it executes (so the replica running it
// concludes it). A cancel request is also left for a queued run, which
// a replica may be starting at this moment.
func (a *App) stopRun(ctx context.Context, run store.Run, cause error) bool {
	here, err := a.replica.RequestCancel(ctx, run.ID, cause)
	if err != nil {
		logger(ctx).Error().Err(err).Str("run", run.ID).Msg("request the run's cancel")
	}
	return here || run.Status == store.StatusInProgress
}

// wakeGates tells the deploy gates of repo@sha on every replica to look
// again.
func (a *App) wakeGates(ctx context.Context, repo, sha string) {
	a.replica.WakeGates(ctx, repo, sha)
}

// leadsHousekeeping reports whether this replica does the store's
// housekeeping until its next pass, every.
func (a *App) leadsHousekeeping(ctx context.Context, every time.Duration) bool {
	return a.replica.Lead(ctx, housekeepingRole, 2*every)
}
