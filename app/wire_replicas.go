package app

import (
	"context"
	"time"

	"github.com/stagegate/stagegate/app/replica"
	"github.com/stagegate/stagegate/app/runs"
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
		Cancelled: func(reason string) error { return runs.Cancelled(reason) },
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

// executingRuns gives app/runs the cancel of a run executing anywhere.
type executingRuns struct{ a *App }

func (e executingRuns) Stop(ctx context.Context, run store.Run, cause error) bool {
	return e.a.stopRun(ctx, run, cause)
}

// gateWaiters gives app/deploys and app/handlers the gates' wake-ups:
// this process's gates watch, and a wake-up reaches every replica's.
type gateWaiters struct{ a *App }

func (w gateWaiters) Watch(repo, sha string) (<-chan struct{}, func()) {
	return w.a.waiters.Watch(repo, sha)
}

// Wake tells the deploy gates of repo@sha on every replica to look
// again.
func (w gateWaiters) Wake(ctx context.Context, repo, sha string) {
	w.a.replica.WakeGates(ctx, repo, sha)
}

// replicaEnvironments gives app/deploys the environments' deploy lines,
// shared by every replica through the store.
type replicaEnvironments struct{ r *replica.Replica }

func (e replicaEnvironments) Acquire(ctx context.Context, repo, env, runID string) (func(), error) {
	return e.r.AcquireEnvironment(ctx, repo, env, runID)
}

func (e replicaEnvironments) HolderOf(ctx context.Context, repo, env string) string {
	return e.r.EnvironmentHolder(ctx, repo, env)
}

func (e replicaEnvironments) Gating(runID string) func() { return e.r.Gating(runID) }

// leadsHousekeeping reports whether this replica does the store's
// housekeeping until its next pass, every.
func (a *App) leadsHousekeeping(ctx context.Context, every time.Duration) bool {
	return a.replica.Lead(ctx, housekeepingRole, 2*every)
}
